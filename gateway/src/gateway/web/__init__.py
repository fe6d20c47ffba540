"""The candidate's web pages (DESIGN section 7), served by the gateway: server-rendered, in
English and French, talking to the services like any API client."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response, jsonify, request
from flask_babel import Babel, gettext

from contracts.events.internal import PARTNER_NAMES
from contracts.runtime.keyfiles import read_secret_file
from gateway.config import GatewaySettings
from gateway.identity import IdentityClient
from gateway.proxy import ServiceProxy
from gateway.ratelimit import RateLimits
from gateway.sessions import CandidateTokens
from gateway.web.account_pages import add_account_pages
from gateway.web.activation_pages import add_activation_pages
from gateway.web.backend import Backend
from gateway.web.candidate_pages import add_candidate_pages, moment
from gateway.web.pages import (
    EXTENSION,
    RefreshUnavailable,
    Web,
    current_language,
    partner_form_origins,
    render,
    wait_message,
)
from gateway.web.partner_pages import add_partner_pages
from gateway.web.partners import TurnedOnPartners
from gateway.web.security import STATIC_PATH, csrf_failed, csrf_token, page_headers
from gateway.web.signin_pages import add_sign_in_pages

HERE = Path(__file__).parent


def configure_sessions(app: Flask, settings: GatewaySettings) -> None:
    """The browser session: a signed cookie, HttpOnly, SameSite=Lax, and under HTTPS Secure
    with the __Host- prefix (which browsers refuse without Secure)."""
    https = settings.public_url.startswith("https://")
    app.secret_key = read_secret_file(
        settings.session_key_path,
        generate=(lambda: secrets.token_hex(32).encode())
        if settings.generate_session_key
        else None,
    ).strip()
    app.config.update(
        SESSION_COOKIE_NAME="__Host-nexam" if https else "nexam",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        BABEL_DEFAULT_LOCALE="en",
    )


def too_many_requests_page(seconds: int) -> Response:
    refused = gettext("Too many attempts from your network.")
    text = f"{refused} {wait_message(seconds)}"
    page, status = render("refused.html", gettext("Too many attempts"), errors=[{"text": text}])
    response = Response(page, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(seconds)
    return response


def refresh_unavailable(exc: RefreshUnavailable) -> Response:
    """The session stands; only its refresh must wait: a page to reload, or for the page
    scripts a 503 they retry (the exam page keeps the answer and tries again)."""
    text = gettext("The service is unavailable. Try again shortly.")
    if request.path.startswith("/app/api/"):
        response = jsonify({"error": "service_unavailable", "message": text})
        response.status_code = 503
    else:
        page, status = render(
            "refused.html", gettext("Service unavailable"), status=503, errors=[{"text": text}]
        )
        response = Response(page, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _refuse_forged_forms() -> tuple[str, int] | None:
    if not csrf_failed():
        return None
    text = gettext("This form has expired. Go back, reload the page and try again.")
    return render("refused.html", gettext("Form expired"), status=400, errors=[{"text": text}])


def install_web(
    app: Flask,
    settings: GatewaySettings,
    proxy: ServiceProxy,
    identity: IdentityClient,
    tokens: CandidateTokens,
    limits: RateLimits,
) -> None:
    configure_sessions(app, settings)
    Babel(app, locale_selector=current_language)
    https = settings.public_url.startswith("https://")
    backend = Backend(proxy, identity, tokens)
    partners = TurnedOnPartners(
        lambda: backend.internal("GET", "/internal/v1/partners", language="en")
    )
    app.extensions[EXTENSION] = Web(
        backend=backend,
        support_email=settings.support_email,
        https=https,
        terms_version=settings.terms_version,
        privacy_version=settings.privacy_version,
        partners=partners,
    )
    # not /static: Flask gives every app a /static route of its own (to a folder the
    # gateway does not have), which would answer 404 for the pages' files
    blp = Blueprint(
        "web",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path=STATIC_PATH,
    )
    blp.before_request(_refuse_forged_forms)
    blp.register_error_handler(RefreshUnavailable, refresh_unavailable)
    blp.after_request(
        lambda response: page_headers(response, https=https, form_origins=partner_form_origins())
    )
    # a global, not a context value: imported macros see globals only
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["partner_names"] = PARTNER_NAMES
    add_sign_in_pages(blp, limits)
    add_activation_pages(blp, limits)
    add_partner_pages(blp, limits)
    add_account_pages(blp)
    add_candidate_pages(blp)
    app.jinja_env.filters["moment"] = moment
    app.register_blueprint(blp)
