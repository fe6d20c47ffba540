"""Per-client-address rate limits (DESIGN section 5) on code entry, sign-in and forgot
password. Each group is one counter per address, shared by the group's endpoints. The limits
are settings, generous by default: the real brute-force defence is identity's, per account
and per code, and an exam hall puts hundreds of candidates behind one address."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from werkzeug.sansio.response import Response as BaseResponse

from contracts.runtime.errors import error_response
from contracts.runtime.languages import request_language
from gateway.config import GatewaySettings
from gateway.proxy import ServiceProxy

MESSAGES = {
    "en": "Too many attempts from your network. Try again in {n} second{s}.",
    "fr": "Trop de tentatives depuis votre réseau. Réessayez dans {n} seconde{s}.",
}

View = Callable[..., Any]

# a Redis that does not answer must cost a request little: the limiter falls back to memory
REDIS_TIMEOUT_SECONDS = 1


@dataclass(frozen=True)
class RateLimits:
    """The limiter and one shared-limit decorator per group of endpoints."""

    limiter: Limiter
    code_entry: Callable[[View], View]
    sign_in: Callable[[View], View]
    forgot_password: Callable[[View], View]
    # the same counters for the web pages' form posts, refused with a page
    code_entry_pages: Callable[[View], View]
    sign_in_pages: Callable[[View], View]
    forgot_password_pages: Callable[[View], View]


def install_rate_limits(
    app: Flask,
    settings: GatewaySettings,
    proxy: ServiceProxy,
    page_refusal: Callable[[int], Response] | None = None,
) -> RateLimits:
    """``page_refusal(seconds)`` renders the refusal of a web page's form."""
    redis = settings.redis_url
    limiter = Limiter(
        # an empty key would make Flask-Limiter skip the limit (a WSGI server without
        # REMOTE_ADDR): such callers share one counter instead
        lambda: proxy.client_address(request) or "unknown",
        app=app,
        storage_uri=redis or "memory://",
        storage_options=(
            {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            }
            if redis
            else {}
        ),
        # Redis down: count in this process until it is back (checked with backoff) rather
        # than stop limiting or fail the request
        in_memory_fallback_enabled=True,
        # Retry-After is set on the 429 only: Flask-Limiter's headers would also put it on
        # successful answers and overwrite the one identity gives with its own 429s
        headers_enabled=False,
        key_prefix="gateway",
        on_breach=_too_many_attempts,
    )
    app.register_error_handler(RateLimitExceeded, _rate_limit_exceeded)
    groups = {
        "code-entry": settings.rate_limit_code_entry,
        "sign-in": settings.rate_limit_sign_in,
        "forgot-password": settings.rate_limit_forgot_password,
    }

    def api(scope: str) -> Callable[[View], View]:
        return limiter.shared_limit(groups[scope], scope=scope)

    def pages(scope: str) -> Callable[[View], View]:
        def refuse(limit: RequestLimit) -> Response:
            seconds = _seconds_left(limit)
            return page_refusal(seconds) if page_refusal else _too_many_attempts(limit)

        return limiter.shared_limit(groups[scope], scope=scope, methods=["POST"], on_breach=refuse)

    return RateLimits(
        limiter=limiter,
        code_entry=api("code-entry"),
        sign_in=api("sign-in"),
        forgot_password=api("forgot-password"),
        code_entry_pages=pages("code-entry"),
        sign_in_pages=pages("sign-in"),
        forgot_password_pages=pages("forgot-password"),
    )


def limited_forwarding_blueprint(proxy: ServiceProxy, limits: RateLimits) -> Blueprint:
    """The limited endpoints that identity serves as they are: forwarded like the catch-all
    does, once the address's counter allows it."""
    blp = Blueprint("limited", __name__)

    @blp.post("/api/v1/activation")
    @limits.code_entry
    def activation() -> Response:
        return proxy.forward("identity", request)

    @blp.post("/api/v1/activation/two-factor/confirm")
    @limits.code_entry
    def activation_two_factor_confirm() -> Response:
        return proxy.forward("identity", request)

    @blp.post("/api/v1/sessions")
    @limits.sign_in
    def sign_in() -> Response:
        return proxy.forward("identity", request)

    @blp.post("/api/v1/password/forgot")
    @limits.forgot_password
    def password_forgot() -> Response:
        return proxy.forward("identity", request)

    @blp.post("/api/v1/password/reset")
    @limits.forgot_password
    def password_reset() -> Response:
        return proxy.forward("identity", request)

    return blp


def _seconds_left(limit: RequestLimit) -> int:
    # reset_at is rounded one second up; the window's own reset time gives the exact wait
    return max(1, math.ceil(limit.window.reset_time - time.time()))


def _too_many_attempts(limit: RequestLimit) -> Response:
    seconds = _seconds_left(limit)
    language = request_language()
    message = MESSAGES[language].format(n=seconds, s="s" if seconds > 1 else "")
    response = error_response(429, "rate_limited", message, retry_after=seconds)
    response.headers["Retry-After"] = str(seconds)
    return response


def _rate_limit_exceeded(exc: RateLimitExceeded) -> BaseResponse:
    # the app's generic HTTPException handler would drop the response built by on_breach
    if exc.response is not None:
        return exc.response
    return error_response(429, "rate_limited", "Too many attempts from your network.")
