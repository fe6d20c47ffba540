"""Candidate tokens: ``POST /api/v1/sessions/two-factor`` (the emailed code) and
``POST /api/v1/sessions/refresh``. Identity checks the code or the refresh token and keeps the
session (rotation, reuse detection, the 12 h absolute end); the gateway signs the access token,
which never outlives the session. The rest of ``/api/v1/sessions`` is forwarded as it is."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from flask import Blueprint, Response, jsonify, request

from contracts.runtime.errors import ApiError
from gateway.identity import IdentityClient, load_signed_in
from gateway.ratelimit import RateLimits
from gateway.tokens import TokenMinter

log = logging.getLogger(__name__)

# far above any code, identifier or refresh token; only keeps junk from reaching identity
MAX_FIELD_LENGTH = 1024


@dataclass(frozen=True)
class SignedInSession:
    """What identity answers when it opens or refreshes a session."""

    session_id: str
    account_id: str
    refresh_token: str
    expires_at: datetime
    roles: list[str]
    amr: list[str]


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class CandidateTokens:
    """Turns a session identity opened or refreshed into the candidate's tokens: the access
    token never outlives its session."""

    minter: TokenMinter
    access_token_seconds: int

    def mint(self, session: SignedInSession) -> IssuedTokens:
        now = datetime.now(UTC)
        session_left = int((session.expires_at - now).total_seconds())
        lifetime = min(self.access_token_seconds, session_left)
        if lifetime < 1:
            raise ApiError(401, "invalid_grant", "The session has ended. Sign in again.")
        access = self.minter.mint(
            subject=session.account_id,
            roles=session.roles,
            institution=None,
            amr=session.amr,
            lifetime=timedelta(seconds=lifetime),
            now=now,
            extra={"sid": session.session_id},
        )
        return IssuedTokens(access, session.refresh_token, lifetime)


def sessions_blueprint(
    tokens: CandidateTokens, identity: IdentityClient, limits: RateLimits
) -> Blueprint:
    blp = Blueprint("sessions", __name__)

    @blp.post("/api/v1/sessions/two-factor")
    @limits.sign_in
    def two_factor() -> Response:
        body = _required_strings(("challenge_id", "code"))
        return issue_tokens(identity.post("/internal/v1/sessions", body, request))

    @blp.post("/api/v1/sessions/refresh")
    def refresh() -> Response:
        body = _required_strings(("refresh_token",))
        return issue_tokens(identity.post("/internal/v1/sessions/refresh", body, request))

    def issue_tokens(answer: requests.Response) -> Response:
        if answer.status_code in (200, 201):
            session = signed_in_session(answer)
        elif 400 <= answer.status_code < 500:
            return _no_store(_identity_refusal(answer))
        else:
            log.warning("identity answered %s to a session request", answer.status_code)
            raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.")
        issued = tokens.mint(session)
        return _no_store(
            jsonify(
                {
                    "access_token": issued.access_token,
                    "refresh_token": issued.refresh_token,
                    "token_type": "Bearer",
                    "expires_in": issued.expires_in,
                }
            )
        )

    return blp


def _required_strings(names: Sequence[str]) -> dict[str, str]:
    """The named fields of the JSON body, and only those, so nothing else reaches identity."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    problems: dict[str, list[str]] = {}
    for name in names:
        value = body.get(name)
        if value is None:
            problems[name] = ["Missing data for required field."]
        elif not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD_LENGTH:
            problems[name] = ["Not a valid string."]
    if problems:
        # the shape flask-smorest gives, so that every 422 of the API reads the same
        raise ApiError(
            422, "validation_error", "The request is not valid.", errors={"json": problems}
        )
    return {name: body[name] for name in names}


def _identity_refusal(answer: requests.Response) -> Response:
    """Identity's 4xx, with its status, JSON body and Retry-After; one that refuses the
    gateway's own token is a fault between the two, not the caller's."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        log.warning("identity answered %s without a JSON error", answer.status_code)
        raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.")
    if answer.status_code == 403 or (
        answer.status_code == 401 and body["error"] == "invalid_token"
    ):
        log.error("identity refused the gateway's service token (%s)", answer.status_code)
        raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.")
    response = jsonify(body)
    response.status_code = answer.status_code
    retry_after = answer.headers.get("Retry-After")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def signed_in_session(answer: requests.Response) -> SignedInSession:
    try:
        body = load_signed_in(answer.json())
    except ValueError as exc:
        log.warning("identity's session answer is not usable: %s", exc)
        raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.") from None
    return SignedInSession(
        session_id=body["session_id"],
        account_id=body["account_id"],
        refresh_token=body["refresh_token"],
        expires_at=body["session_expires_at"],
        roles=body["roles"],
        amr=body["amr"],
    )


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
