"""The browser-facing protections of DESIGN section 5: a CSRF token on every form, and the
headers every page carries (CSP without inline script, frame-ancestors 'none', nosniff,
Referrer-Policy, HSTS over HTTPS, no caching)."""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import unquote, urlsplit

from flask import Response, request, session

CSRF_FIELD = "csrf_token"
#: where the pages' stylesheet and script are served
STATIC_PATH = "/assets"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

#: C0 and C1 control characters and DEL: browsers drop tabs and newlines from an address
#: before reading it, so "/\t/evil.example" would arrive as "//evil.example"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def local_path(target: str, fallback: str) -> str:
    r"""``target`` if it is a path of this site, else ``fallback``: one leading "/", no "\"
    (browsers read "/\host" as "//host"), no scheme or host, no control character, and
    none of that hidden behind percent-encoding at its start ("/%2F/host", "/%5Chost")."""
    decoded = unquote(target)
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
        or CONTROL_CHARACTERS.search(target)
        or CONTROL_CHARACTERS.search(decoded)
        or decoded.startswith(("//", "/\\"))
    ):
        return fallback
    return target


def csrf_token() -> str:
    """This browser session's token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_failed() -> bool:
    """Whether a state-changing request lacks the session's token (a form field or the
    X-CSRF-Token header of a fetch); a cross-site form cannot know it."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    return not isinstance(expected, str) or not hmac.compare_digest(expected, given)


def page_headers(
    response: Response, *, https: bool, form_origins: tuple[str, ...] = ()
) -> Response:
    """``form_origins``: the sign-in partners' pages, where a partner button's form is
    redirected."""
    policy = CONTENT_SECURITY_POLICY
    if form_origins:
        policy = policy.replace(
            "form-action 'self'", " ".join(("form-action 'self'", *form_origins))
        )
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "application/pdf":
        # an exam's subject or the device check's document, shown in a frame of the page
        response.headers["Content-Security-Policy"] = policy.replace(
            "frame-ancestors 'none'", "frame-ancestors 'self'"
        )
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response.headers["X-Frame-Options"] = "DENY"
    # reset links carry their token in the address: it must not leave in a Referer
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = (
        "camera=(self), display-capture=(self), microphone=(), geolocation=()"
    )
    if https:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if not request.path.startswith(STATIC_PATH + "/"):
        response.headers["Cache-Control"] = "no-store"
    return response
