"""Identity's internal API for the sign-in partners (DESIGN section 9), called by the
gateway only: it keeps ``state``, ``nonce`` and the PKCE verifier in the browser's session
and brings them back with the partner's code. Identity decides; the gateway mints the
tokens, as for passwords."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from contracts.events.internal import PARTNER_NAMES, SignedInSchema
from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from identity import partner_signin
from identity.activation import account_for_token
from identity.activation_api import ActivationSchema, activation_view
from identity.api import UNREACHABLE, answering, catalog, context, run, settle
from identity.domain import PartnerIdentity
from identity.internal_api import signed_in
from identity.oidc import PartnerUnreachable

#: seconds to wait before trying an unreachable partner again
RETRY_AFTER = 30

blp = Blueprint(
    "partners", __name__, url_prefix="/internal/v1/partners", description="Sign-in partners"
)


class TurnedOnSchema(Schema):
    partners = fields.List(fields.String())
    #: where each one's sign-in page is, for the pages' form-action
    origins = fields.Dict(keys=fields.String(), values=fields.String())


class AuthorizationAskedSchema(Schema):
    login_hint = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=320)
    )


class AuthorizationSchema(Schema):
    authorization_url = fields.String()
    state = fields.String()
    nonce = fields.String()
    code_verifier = fields.String()


class CallbackSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    code_verifier = fields.String(required=True, validate=validate.Length(min=43, max=128))
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SignInCallbackSchema(CallbackSchema):
    terms_version = fields.String(validate=validate.Length(max=40))
    privacy_version = fields.String(validate=validate.Length(max=40))


class ActivationCallbackSchema(CallbackSchema):
    activation_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


@contextmanager
def reaching(provider: str) -> Iterator[None]:
    """The partner's refusals answered, and its silence a 503 to try again after."""
    try:
        with answering():
            yield
    except PartnerUnreachable:
        name = PARTNER_NAMES.get(provider, provider)
        language = request_language()
        error = ApiError(
            503, "partner_unreachable", catalog.say(UNREACHABLE, language, partner=name)
        )
        error.headers["Retry-After"] = str(RETRY_AFTER)
        raise error from None


@blp.route("")
class TurnedOn(MethodView):
    @require_role("gateway")
    @blp.response(200, TurnedOnSchema)
    def get(self) -> dict[str, Any]:
        """The partners the operator turned on."""
        partners = context().partners
        return {"partners": partners.turned_on(), "origins": partners.origins()}


@blp.route("/<provider>/authorization")
class Authorize(MethodView):
    @require_role("gateway")
    @blp.arguments(AuthorizationAskedSchema)
    @blp.response(200, AuthorizationSchema)
    @blp.alt_response(404, description="partner_unavailable")
    @blp.alt_response(503, description="partner_unreachable")
    def post(self, body: dict[str, Any], provider: str) -> dict[str, Any]:
        """Where to send the browser, with what its session keeps for the callback."""
        with reaching(provider):
            made = context().partners.authorization(provider, body["login_hint"])
        return {
            "authorization_url": made.url,
            "state": made.state,
            "nonce": made.nonce,
            "code_verifier": made.code_verifier,
        }


def _identified(provider: str, body: dict[str, Any]) -> PartnerIdentity:
    """Who the partner says signed in; a provider not turned on (or unknown) is refused."""
    with reaching(provider):
        return context().partners.identify(
            provider,
            code=body["code"],
            code_verifier=body["code_verifier"],
            nonce=body["nonce"],
        )


@blp.route("/<provider>/sign-in")
class SignIn(MethodView):
    @require_role("gateway")
    @blp.arguments(SignInCallbackSchema)
    @blp.response(201, SignedInSchema)
    @blp.alt_response(401, description="partner_refused")
    @blp.alt_response(403, description="partner_not_offered, partner_wrong_tenant, …")
    @blp.alt_response(404, description="partner_no_account")
    @blp.alt_response(409, description="activation_incomplete, terms_outdated, partner_…")
    @blp.alt_response(429, description="too_many_attempts, with Retry-After")
    def post(self, body: dict[str, Any], provider: str) -> dict[str, Any]:
        """Sign in with the partner's code: a session, as after the emailed code."""
        found = _identified(provider, body)
        ctx = context()
        now = ctx.clock()
        accepted: dict[str, str] = {
            k: body[k] for k in ("terms_version", "privacy_version") if k in body
        }
        opened, account_language = settle(
            run(
                lambda session: partner_signin.sign_in(
                    session,
                    ctx.outbox,
                    found=found,
                    terms=ctx.terms,
                    accepted_terms=accepted,
                    now=now,
                )
            )
        )
        return signed_in(opened, request_language(account_language))


@blp.route("/<provider>/activation")
class Activate(MethodView):
    @require_role("gateway")
    @blp.arguments(ActivationCallbackSchema)
    @blp.response(200, ActivationSchema)
    @blp.alt_response(401, description="partner_refused, invalid_token")
    @blp.alt_response(403, description="partner_address_mismatch, …")
    @blp.alt_response(409, description="partner_link_taken, partner_other_link")
    def post(self, body: dict[str, Any], provider: str) -> dict[str, Any]:
        """The partner instead of a password, for the activation that token works for."""
        ctx = context()
        token = body["activation_token"]
        holder = run(lambda session: account_for_token(session, token, ctx.clock()))
        found = _identified(provider, body)
        now = ctx.clock()
        run(lambda session: partner_signin.activate(session, holder, found, now))
        return activation_view(run(lambda session: account_for_token(session, token, now)))
