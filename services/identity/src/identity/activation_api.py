"""The candidate's way in, first step: ``POST /api/v1/activation {code}`` and
``GET /api/v1/activation`` (DESIGN section 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session, sessionmaker

from contracts.web.auth import bearer_token
from contracts.web.errors import ApiError
from identity.activation import INVALID_CODE, account_for_token, redeem, steps_of

EXTENSION = "nexam.identity"

blp = Blueprint(
    "activation", __name__, url_prefix="/api/v1/activation", description="Account activation"
)


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    code_key: bytes
    clock: Callable[[], datetime]


def ctx() -> Context:
    context: Context = current_app.extensions[EXTENSION]
    return context


class CodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))


class StepSchema(Schema):
    name = fields.String()
    done = fields.Boolean()


class ActivationSchema(Schema):
    activation_token = fields.String()
    email = fields.String()
    first_name = fields.String()
    steps = fields.List(fields.Nested(StepSchema))


def _language() -> str:
    return request.accept_languages.best_match(("en", "fr")) or "en"


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
            raise ApiError(404, "invitation_code_invalid", INVALID_CODE[_language()])
        account = redeemed.account
        return {
            "activation_token": redeemed.activation_token,
            "email": account.email,
            "first_name": account.first_name,
            "steps": steps_of(account),
        }

    @blp.response(200, ActivationSchema)
    def get(self) -> dict[str, Any]:
        """The steps done and left, for the holder of an activation token."""
        token = bearer_token()
        context = ctx()
        with context.sessions() as session:
            account = account_for_token(session, token, context.clock()) if token else None
        if account is None:
            error = ApiError(401, "invalid_token", "Enter your invitation code again.")
            error.headers["WWW-Authenticate"] = 'Bearer realm="nexam-activation"'
            raise error
        return {
            "email": account.email,
            "first_name": account.first_name,
            "steps": steps_of(account),
        }
