"""The candidate's public API besides activation (DESIGN section 6): sign-in, sign-out,
forgotten passwords and the profile. Issuing tokens is the gateway's: the code step of
sign-in and the refresh are reached through the internal API (see ``api.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Row

from contracts.runtime.auth import Claims, require_role
from contracts.runtime.errors import ApiError
from identity import profile, recovery, sessions, signin
from identity.context import LANGUAGES, ctx, request_language
from identity.messages import say
from identity.passwords import MAX_LENGTH

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Sign-in and profile")

_PASSWORD = validate.Length(max=4 * MAX_LENGTH)


class SignInSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    password = fields.String(required=True, validate=_PASSWORD)
    terms_version = fields.String(validate=validate.Length(max=40))
    privacy_version = fields.String(validate=validate.Length(max=40))


class ChallengeSchema(Schema):
    challenge_id = fields.UUID()
    method = fields.String()
    expires_in = fields.Integer()


class ResendSchema(Schema):
    challenge_id = fields.UUID(required=True)


class ForgotSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))


class ResetSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=_PASSWORD)


class StatusSchema(Schema):
    status = fields.String()
    message = fields.String()


class MeSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    language = fields.String(allow_none=True)
    status = fields.String()
    two_factor = fields.String(allow_none=True)
    terms_version = fields.String(allow_none=True)
    privacy_version = fields.String(allow_none=True)
    terms_accepted_at = fields.AwareDateTime(allow_none=True)
    activated_at = fields.AwareDateTime(allow_none=True)
    password_changed_at = fields.AwareDateTime(allow_none=True)


class MePatchSchema(Schema):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class NewPasswordSchema(Schema):
    current_password = fields.String(required=True, validate=_PASSWORD)
    new_password = fields.String(required=True, validate=_PASSWORD)


def _signed_in() -> tuple[Row[Any], uuid.UUID]:
    """The candidate of the bearer token, whose session must still be live: a password
    change or reset ends access at once here, and within the token's life elsewhere."""
    claims: Claims = g.claims
    context = ctx()
    try:
        account_id = uuid.UUID(claims.subject)
        session_id = uuid.UUID(str(claims.raw.get("sid")))
    except ValueError:
        raise _ended() from None
    with context.sessions() as session:
        live = sessions.is_live(session, session_id, account_id, context.clock())
    row = profile.account(context, account_id) if live else None
    if row is None:
        raise _ended()
    return row, session_id


def _ended() -> ApiError:
    error = ApiError(401, "invalid_token", say("session_ended", request_language()))
    error.headers["WWW-Authenticate"] = 'Bearer realm="nexam"'
    return error


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(SignInSchema)
    @blp.response(200, ChallengeSchema)
    @blp.alt_response(401, description="invalid_credentials")
    @blp.alt_response(409, description="activation_incomplete or terms_outdated")
    @blp.alt_response(429, description="too_many_attempts, with Retry-After")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Sign in, first step: the password. A code is emailed to the account."""
        accepted = (
            {"terms_version": body["terms_version"], "privacy_version": body["privacy_version"]}
            if "terms_version" in body and "privacy_version" in body
            else None
        )
        return signin.start(ctx(), body["email"], body["password"], accepted, request_language())

    @require_role("candidate")
    @blp.response(204)
    def delete(self) -> None:
        """Sign out: the session and its refresh token end."""
        _row, session_id = _signed_in()
        signin.sign_out(ctx(), session_id)


@blp.route("/sessions/two-factor/resend")
class Resend(MethodView):
    @blp.arguments(ResendSchema)
    @blp.response(202, ChallengeSchema)
    def post(self, body: dict[str, uuid.UUID]) -> dict[str, Any]:
        """Send a new code for a sign-in; the previous code stops working."""
        return signin.resend(ctx(), body["challenge_id"], request_language())


@blp.route("/password/forgot")
class Forgot(MethodView):
    @blp.arguments(ForgotSchema)
    @blp.response(202, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Email a reset link, if the address has an account; the answer is the same."""
        recovery.forgot(ctx(), body["email"])
        return {"status": "accepted", "message": say("reset_sent", request_language())}


@blp.route("/password/reset")
class Reset(MethodView):
    @blp.arguments(ResetSchema)
    @blp.response(200, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Choose a new password with the emailed link's token. Signs nobody in."""
        language = request_language()
        recovery.reset(ctx(), body["token"], body["password"], language)
        return {"status": "changed", "message": say("password_reset", language)}


@blp.route("/me")
class Me(MethodView):
    @require_role("candidate")
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """The signed-in candidate's account."""
        row, _session_id = _signed_in()
        return profile.view(row)

    @require_role("candidate")
    @blp.arguments(MePatchSchema)
    @blp.response(200, MeSchema)
    def patch(self, body: dict[str, str]) -> dict[str, Any]:
        """Change the language of pages and emails."""
        row, _session_id = _signed_in()
        profile.set_language(ctx(), row.id, body["language"])
        changed = profile.account(ctx(), row.id)
        assert changed is not None
        return profile.view(changed)


@blp.route("/me/password")
class MyPassword(MethodView):
    @require_role("candidate")
    @blp.arguments(NewPasswordSchema)
    @blp.response(200, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Change the password: other sessions end and a notice is emailed."""
        row, session_id = _signed_in()
        profile.new_password(ctx(), row, body["current_password"], body["new_password"], session_id)
        return {"status": "changed", "message": say("password_changed", row.language or "en")}
