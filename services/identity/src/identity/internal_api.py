"""Identity's internal API, called by the gateway only (role ``gateway``): the gateway
turns identity's decisions into tokens. Its answers are contracts (``contracts.events.
internal``) that the gateway loads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from contracts.events.internal import ApiClientSchema, SignedInSchema
from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from identity import clients, sessions, signin
from identity.api import context, run, settle
from identity.throttle import count_attempt

blp = Blueprint("internal", __name__, url_prefix="/internal/v1", description="For the gateway")


class ClientCredentialsSchema(Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    client_secret = fields.String(required=True, validate=validate.Length(min=1, max=200))


@blp.route("/api-clients/authenticate")
class AuthenticateClient(MethodView):
    @require_role("gateway")
    @blp.arguments(ClientCredentialsSchema)
    @blp.response(200, ApiClientSchema)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Check an API client's credentials."""
        row = run(
            lambda session: clients.authenticate_client(
                session, body["client_id"], body["client_secret"]
            )
        )
        if row is None:
            raise ApiError(401, "invalid_client", "Unknown client or wrong secret.")
        return {"client_id": row.id, "institution_id": row.institution_id, "name": row.name}


class CodeStepSchema(Schema):
    challenge_id = fields.UUID(required=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


def signed_in(opened: sessions.Opened, language: str) -> dict[str, Any]:
    return {
        "session_id": opened.session_id,
        "account_id": opened.account_id,
        "refresh_token": opened.refresh_token,
        "session_expires_at": opened.expires_at,
        "roles": ["candidate"],
        "amr": list(opened.amr),
        "language": language,
    }


@blp.route("/sessions")
class SignInWithCode(MethodView):
    @require_role("gateway")
    @blp.arguments(CodeStepSchema)
    @blp.response(201, SignedInSchema)
    @blp.alt_response(401, description="invalid_code")
    @blp.alt_response(429, description="too_many_attempts, with Retry-After")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign in, second step: the emailed code opens a session."""
        ctx = context()
        challenge_id = body["challenge_id"]
        account = run(lambda session: signin.code_holder(session, challenge_id))
        language = request_language(account.language)
        # counted and committed before the code is tried: a refused code stays counted
        attempt = run(
            lambda session: count_attempt(session, account.email, ctx.clock()),
            language=language,
        )
        now = ctx.clock()
        opened = run(
            lambda session: signin.finish(
                session,
                ctx.codes,
                account=account,
                challenge_id=challenge_id,
                code=body["code"],
                attempt=attempt,
                now=now,
            )
        )
        return signed_in(settle(opened, language=language), language)


@blp.route("/sessions/refresh")
class Refresh(MethodView):
    @require_role("gateway")
    @blp.arguments(RefreshSchema)
    @blp.response(200, SignedInSchema)
    @blp.alt_response(401, description="invalid_grant")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """The session's next refresh token; an old one presented again ends the session."""
        ctx = context()
        now = ctx.clock()
        outcome = run(
            lambda session: signin.refresh(
                session, ctx.outbox, body["refresh_token"], now, ctx.refresh_reuse_leeway
            )
        )
        opened, account_language = settle(outcome)
        return signed_in(opened, request_language(account_language))


class EndedQuerySchema(Schema):
    #: at most a day: the gateway asks for an access token's life and a little more
    within_seconds = fields.Integer(required=True, validate=validate.Range(min=1, max=86400))


class EndedSessionSchema(Schema):
    session_id = fields.UUID()
    ended_at = fields.AwareDateTime()


class EndedSessionsSchema(Schema):
    sessions = fields.List(fields.Nested(EndedSessionSchema))


@blp.route("/sessions/ended")
class EndedSessions(MethodView):
    @require_role("gateway")
    @blp.arguments(EndedQuerySchema, location="query")
    @blp.response(200, EndedSessionsSchema)
    def get(self, query: dict[str, int]) -> dict[str, Any]:
        """The sessions ended in the last ``within_seconds`` (SessionsEnded announces each
        as it ends): what a gateway that starts, or finds the bus again, reads to catch up."""
        since = context().clock() - timedelta(seconds=query["within_seconds"])
        ended = run(lambda session: sessions.ended_since(session, since))
        return {"sessions": [{"session_id": sid, "ended_at": when} for sid, when in ended]}
