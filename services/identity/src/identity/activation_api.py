"""The candidate's activation (DESIGN section 6): ``POST /api/v1/activation {code}``, then
each step with the activation token as a bearer token."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Row

from contracts.runtime.auth import bearer_token
from contracts.runtime.errors import ApiError
from identity import challenges, steps
from identity.activation import account_for_token, redeem, steps_of
from identity.context import LANGUAGES, ctx, request_language
from identity.messages import say
from identity.passwords import MAX_LENGTH

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
        **ctx().terms.as_dict(),
    }
    if token is not None:
        view["activation_token"] = token
    return view


def _holder() -> Row[Any]:
    """The account whose activation token came with the request, or 401."""
    token = bearer_token()
    context = ctx()
    with context.sessions() as session:
        account = account_for_token(session, token, context.clock()) if token else None
    if account is None:
        error = ApiError(401, "invalid_token", say("activation_token_invalid", request_language()))
        error.headers["WWW-Authenticate"] = 'Bearer realm="nexam-activation"'
        raise error
    return account


def _language_of(account: Row[Any]) -> str:
    return request_language(account.language)


@blp.route("")
class Activation(MethodView):
    @blp.arguments(CodeSchema)
    @blp.response(200, ActivationSchema)
    @blp.alt_response(404, description="Unknown, used, expired, revoked or mistyped code")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Redeem an invitation code; the same answer for every way a code can be wrong."""
        context = ctx()
        with context.sessions() as session, session.begin():
            redeemed = redeem(session, body["code"], context.code_key, context.clock())
        if redeemed is None:
            language = request_language()
            raise ApiError(404, "invitation_code_invalid", say("invitation_code_invalid", language))
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
        steps.set_password(ctx(), account, body["password"], _language_of(account))
        return _view(_holder())


@blp.route("/language")
class Language(MethodView):
    @blp.arguments(LanguageSchema)
    @blp.response(200, ActivationSchema)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Choose the language of the platform's pages and emails."""
        account = _holder()
        steps.set_language(ctx(), account, body["language"], _language_of(account))
        return _view(_holder())


@blp.route("/terms")
class Terms(MethodView):
    @blp.arguments(TermsSchema)
    @blp.response(200, ActivationSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Accept the current Terms of Use and Privacy Policy."""
        account = _holder()
        language = _language_of(account)
        if body["accepted"] is not True:
            raise ApiError(422, "terms_not_accepted", say("terms_not_accepted", language))
        steps.accept_terms(ctx(), account, body["terms_version"], body["privacy_version"], language)
        return _view(_holder())


@blp.route("/two-factor")
class TwoFactor(MethodView):
    @blp.arguments(TwoFactorSchema)
    @blp.response(202, CodeSentSchema)
    @blp.alt_response(429, description="resend_too_soon, with retry_after")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Send a code by email (again: at most every 30 seconds; the new one replaces it)."""
        account = _holder()
        challenge_id = steps.send_code(ctx(), account, _language_of(account))
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
        steps.confirm_code(ctx(), account, body["code"], _language_of(account))
        return {"status": "active"}
