"""What every page shares: its language, the signed-in candidate's tokens kept in the
session cookie, and rendering with the page's title and CSRF token."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, render_template, session
from flask_babel import ngettext

from contracts.runtime.languages import LANGUAGES, request_language
from gateway.ended_sessions import has_ended
from gateway.sessions import IssuedTokens
from gateway.web.backend import Answer, Backend
from gateway.web.partners import TurnedOnPartners

LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
EXTENSION = "nexam.web"
#: refresh a little before the access token expires, not after a refused call
EARLY_REFRESH_SECONDS = 30
#: when identity could not refresh the tokens and said nothing of when to come back
RETRY_REFRESH_SECONDS = 5
#: identity sends a new one-time code no sooner than this after the last (DESIGN section 5)
RESEND_COOLDOWN_SECONDS = 30


@dataclass(frozen=True)
class Web:
    backend: Backend
    support_email: str
    https: bool
    #: the versions identity asks candidates to accept (the same settings)
    terms_version: str
    privacy_version: str
    #: the sign-in partners to offer on the sign-in page
    partners: TurnedOnPartners


def web() -> Web:
    context: Web = current_app.extensions[EXTENSION]
    return context


def show_partner_buttons() -> None:
    """The page about to be rendered has partner buttons: its CSP form-action must let their
    forms reach the partners' sign-in pages. Only such a page asks for the partners' origins,
    so no other page (an exam's autosave among them) waits on identity for them."""
    g.partner_form_origins = web().partners.origins()


def partner_form_origins() -> tuple[str, ...]:
    origins: tuple[str, ...] = g.get("partner_form_origins", ())
    return origins


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request_language()


def render(template: str, title: str, status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        template,
        title=title,
        language=current_language(),
        languages=LANGUAGE_NAMES,
        signed_in="auth" in session,
        support_email=web().support_email,
        **context,
    )
    return page, status


def keep_tokens(issued: IssuedTokens) -> None:
    session["auth"] = {
        "access": issued.access_token,
        "refresh": issued.refresh_token,
        "expires_at": int(time.time()) + issued.expires_in,
    }


class RefreshUnavailable(Exception):
    """The session stands, but its tokens could not be refreshed just now (identity busy or
    unreachable): the page says so and the browser tries again; the tokens are kept."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"refresh unavailable, retry after {retry_after} s")
        self.retry_after = retry_after


def _session_ended(refused: Answer) -> bool:
    # 429 and 5xx say "not now", not "no": dropping the tokens then would throw a candidate
    # out of an exam because identity was busy
    return 400 <= refused.status < 500 and refused.status != 429


def access_token() -> str | None:
    """The candidate's access token, refreshed when it is about to expire; None once the
    session has ended (signed out elsewhere, password changed, 12 hours passed). Raises
    ``RefreshUnavailable`` when the refresh failed for a while only and the access token
    has expired meanwhile."""
    auth = session.get("auth")
    if not isinstance(auth, Mapping):
        return None
    if has_ended(str(auth.get("access", ""))):  # ended elsewhere: no refresh revives it
        session.pop("auth", None)
        return None
    expires_at = int(auth.get("expires_at", 0))
    if expires_at - EARLY_REFRESH_SECONDS > time.time():
        return str(auth["access"])
    issued = web().backend.refresh(str(auth.get("refresh", "")))
    if isinstance(issued, Answer):
        if _session_ended(issued):
            session.pop("auth", None)
            return None
        if expires_at > time.time():
            return str(auth["access"])
        raise RefreshUnavailable(issued.retry_after or RETRY_REFRESH_SECONDS)
    keep_tokens(issued)
    return issued.access_token


def api(
    service: str, method: str, path: str, json: Mapping[str, Any] | None = None, **kwargs: Any
) -> Answer:
    return web().backend.call(
        service, method, path, json=json, language=current_language(), **kwargs
    )


def wait_message(seconds: int) -> str:
    if seconds < 60:
        return str(
            ngettext("Try again in %(num)s second.", "Try again in %(num)s seconds.", seconds)
        )
    minutes = -(-seconds // 60)
    return str(ngettext("Try again in %(num)s minute.", "Try again in %(num)s minutes.", minutes))


def cooldown_left(sent_at: object) -> int:
    """Seconds before a new code can be asked for, the last one sent at ``sent_at``."""
    if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
        return 0
    return max(0, int(sent_at + RESEND_COOLDOWN_SECONDS - time.time()))
