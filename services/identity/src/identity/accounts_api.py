"""The candidate's public API besides activation (DESIGN section 6): sign-in, sign-out,
forgotten passwords and the profile. Issuing tokens is the gateway's: the code step of
sign-in and the refresh are reached through the internal API (see ``internal_api.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Row

from contracts.runtime.auth import Claims, require_role
from contracts.runtime.languages import LANGUAGES, request_language
from identity import challenges, profile, recovery, signin
from identity.api import answer, answering, catalog, context, run, settle
from identity.domain import SessionEnded
from identity.passwords import MAX_LENGTH
from identity.throttle import count_attempt

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
    # blank once trimmed is no address at all (the event carries the trimmed one)
    email = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=320),
            validate.Predicate("strip", error="Enter an email address."),
        ],
    )


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
    """The candidate of the bearer token, whose session must still be live."""
    claims: Claims = g.claims
    try:
        account_id = uuid.UUID(claims.subject)
        session_id = uuid.UUID(str(claims.raw.get("sid")))
    except ValueError:
        raise answer(SessionEnded()) from None
    now = context().clock()
    row = run(lambda session: profile.signed_in(session, account_id, session_id, now))
    return row, session_id


def _challenge(challenge_id: uuid.UUID) -> dict[str, Any]:
    return {
        "challenge_id": challenge_id,
        "method": "email",
        "expires_in": int(challenges.CODE_LIFETIME.total_seconds()),
    }


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
        ctx = context()
        email, password = body["email"], body["password"]
        # counted and committed before the password is checked: a wrong one stays counted
        attempt = run(lambda session: count_attempt(session, email, ctx.clock()))
        found = run(lambda session: signin.find_account(session, email))
        with answering():
            account = signin.check_password(ctx.passwords, found, password)
        now = ctx.clock()
        outcome = run(
            lambda session: signin.open_challenge(
                session,
                codes=ctx.codes,
                passwords=ctx.passwords,
                terms=ctx.terms,
                account=account,
                password=password,
                accepted_terms=accepted,
                attempt=attempt,
                now=now,
                caller_language=request_language(),
            )
        )
        # refused after the commit: the attempt is released and the activation token exists
        return _challenge(settle(outcome))

    @require_role("candidate")
    @blp.response(204)
    def delete(self) -> None:
        """Sign out: the session and its refresh token end."""
        _row, session_id = _signed_in()
        ctx = context()
        now = ctx.clock()
        run(lambda session: signin.sign_out(session, ctx.outbox, session_id, now))


@blp.route("/sessions/two-factor/resend")
class Resend(MethodView):
    @blp.arguments(ResendSchema)
    @blp.response(202, ChallengeSchema)
    def post(self, body: dict[str, uuid.UUID]) -> dict[str, Any]:
        """Send a new code for a sign-in; the previous code stops working."""
        ctx = context()
        now = ctx.clock()
        language = request_language()
        issued = run(
            lambda session: signin.resend(session, ctx.codes, body["challenge_id"], now, language),
            language=language,
        )
        return _challenge(issued)


@blp.route("/password/forgot")
class Forgot(MethodView):
    @blp.arguments(ForgotSchema)
    @blp.response(202, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Email a reset link, if the address has an account; the answer is the same."""
        ctx = context()
        run(lambda session: recovery.forgot(session, ctx.outbox, body["email"]))
        message = catalog.say(
            "If an account uses this address, a link to choose a new password is on its way. "
            "It works for 60 minutes.",
            request_language(),
        )
        return {"status": "accepted", "message": message}


@blp.route("/password/reset")
class Reset(MethodView):
    @blp.arguments(ResetSchema)
    @blp.response(200, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Choose a new password with the emailed link's token. Signs nobody in."""
        ctx = context()
        now = ctx.clock()
        token = body["token"]
        account = run(lambda session: recovery.account_for_reset(session, token, now))
        run(
            lambda session: recovery.reset(
                session, ctx.passwords, ctx.outbox, account, token, body["password"], now
            )
        )
        message = catalog.say(
            "Your password has been changed. Sign in with the new one.", request_language()
        )
        return {"status": "changed", "message": message}


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
        changed = run(lambda session: profile.set_language(session, row.id, body["language"]))
        return profile.view(changed)


@blp.route("/me/password")
class MyPassword(MethodView):
    @require_role("candidate")
    @blp.arguments(NewPasswordSchema)
    @blp.response(200, StatusSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Change the password: other sessions end and a notice is emailed."""
        row, session_id = _signed_in()
        ctx = context()
        language = row.language or "en"
        # counted and committed first: a wrong current password stays counted
        attempt = run(
            lambda session: count_attempt(session, row.email, ctx.clock()), language=language
        )
        now = ctx.clock()
        outcome = run(
            lambda session: profile.new_password(
                session,
                ctx.passwords,
                ctx.outbox,
                row=row,
                current=body["current_password"],
                new=body["new_password"],
                attempt=attempt,
                session_id=session_id,
                now=now,
            )
        )
        settle(outcome, language=language)
        message = catalog.say(
            "Your password has been changed. Your other sessions have been signed out.", language
        )
        return {"status": "changed", "message": message}
