"""The candidate's activation (DESIGN section 6): ``POST /api/v1/activation {code}``, then
each step with the activation token as a bearer token."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Row

from contracts.runtime.auth import bearer_token
from contracts.runtime.languages import LANGUAGES, request_language
from identity import challenges, steps
from identity.activation import account_for_token, redeem
from identity.api import answering, context, run, settle
from identity.domain import require_open, steps_of
from identity.passwords import MAX_LENGTH
from identity.store import account_by_id
from identity.throttle import count_attempt

blp = Blueprint(
    "activation", __name__, url_prefix="/api/v1/activation", description="Account activation"
)


class CodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))


class StepSchema(Schema):
    name = fields.String()
    done = fields.Boolean()


class ActivationSchema(Schema):
    activation_token = fields.String()
    email = fields.String()
    first_name = fields.String()
    language = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepSchema))
    terms_version = fields.String()
    privacy_version = fields.String()


class PasswordSchema(Schema):
    # longer than the policy allows, so that the policy can say what is wrong
    password = fields.String(required=True, validate=validate.Length(max=4 * MAX_LENGTH))


class LanguageSchema(Schema):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class TermsSchema(Schema):
    terms_version = fields.String(required=True, validate=validate.Length(max=40))
    privacy_version = fields.String(required=True, validate=validate.Length(max=40))
    accepted = fields.Boolean(required=True)


class TwoFactorSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(("email",)))


class CodeSentSchema(Schema):
    challenge_id = fields.UUID()
    method = fields.String()
    expires_in = fields.Integer()
    resend_after = fields.Integer()


class ConfirmSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class ActivatedSchema(Schema):
    status = fields.String()


def _view(account: Row[Any], token: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "email": account.email,
        "first_name": account.first_name,
        "language": account.language,
        "steps": steps_of(account),
        **context().terms.as_dict(),
    }
    if token is not None:
        view["activation_token"] = token
    return view


def _holder() -> Row[Any]:
    """The account whose activation token came with the request, or 401."""
    token = bearer_token()
    now = context().clock()
    return run(lambda session: account_for_token(session, token, now))


@blp.route("")
class Activation(MethodView):
    @blp.arguments(CodeSchema)
    @blp.response(200, ActivationSchema)
    @blp.alt_response(404, description="Unknown, used, expired, revoked or mistyped code")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Redeem an invitation code; the same answer for every way a code can be wrong."""
        ctx = context()
        now = ctx.clock()
        redeemed = run(lambda session: redeem(session, body["code"], ctx.code_key, now))
        return _view(redeemed.account, redeemed.activation_token)

    @blp.response(200, ActivationSchema)
    def get(self) -> dict[str, Any]:
        """The steps done and left, and the terms versions to accept."""
        return _view(_holder())


@blp.route("/password")
class Password(MethodView):
    @blp.arguments(PasswordSchema)
    @blp.response(200, ActivationSchema)
    @blp.alt_response(422, description="password_policy, with every violation")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Create the password."""
        account = _holder()
        ctx = context()
        now = ctx.clock()
        run(
            lambda session: steps.set_password(
                session, ctx.passwords, account, body["password"], now
            )
        )
        return _view(_holder())


@blp.route("/language")
class Language(MethodView):
    @blp.arguments(LanguageSchema)
    @blp.response(200, ActivationSchema)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Choose the language of the platform's pages and emails."""
        account = _holder()
        run(lambda session: steps.set_language(session, account, body["language"]))
        return _view(_holder())


@blp.route("/terms")
class Terms(MethodView):
    @blp.arguments(TermsSchema)
    @blp.response(200, ActivationSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Accept the current Terms of Use and Privacy Policy."""
        account = _holder()
        ctx = context()
        now = ctx.clock()
        run(
            lambda session: steps.accept_terms(
                session,
                ctx.terms,
                account,
                outbox=ctx.outbox,
                accepted=body["accepted"],
                terms_version=body["terms_version"],
                privacy_version=body["privacy_version"],
                now=now,
            )
        )
        if account.activated_with:
            # complete now: the activation token has stopped working
            activated = run(lambda session: account_by_id(session, account.id))
            assert activated is not None  # accounts are never deleted
            return _view(activated)
        return _view(_holder())


@blp.route("/two-factor")
class TwoFactor(MethodView):
    @blp.arguments(TwoFactorSchema)
    @blp.response(202, CodeSentSchema)
    @blp.alt_response(429, description="resend_too_soon, with retry_after")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Send a code by email (again: at most every 30 seconds; the new one replaces it)."""
        account = _holder()
        ctx = context()
        now = ctx.clock()
        language = request_language(account.language)
        challenge_id = run(
            lambda session: steps.send_code(session, ctx.codes, account, now, language)
        )
        return {
            "challenge_id": challenge_id,
            "method": "email",
            "expires_in": int(challenges.CODE_LIFETIME.total_seconds()),
            "resend_after": int(challenges.RESEND_AFTER.total_seconds()),
        }


@blp.route("/two-factor/confirm")
class Confirm(MethodView):
    @blp.arguments(ConfirmSchema)
    @blp.response(200, ActivatedSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """The code from the email: two-factor is on and the account active."""
        account = _holder()
        ctx = context()
        language = request_language(account.language)
        with answering(language):
            require_open(account, "two_factor")
        # counted and committed before the code is tried: a refused code stays counted
        attempt = run(
            lambda session: count_attempt(session, account.email, ctx.clock()), language=language
        )
        now = ctx.clock()
        refused = run(
            lambda session: steps.confirm_code(
                session, ctx.codes, ctx.outbox, account, body["code"], attempt, now
            )
        )
        settle(refused, language=language)
        return {"status": "active"}
