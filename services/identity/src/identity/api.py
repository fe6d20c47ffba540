"""Identity's internal API, called by the gateway only (role ``gateway``): the gateway
turns identity's decisions into tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session, sessionmaker

from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError
from identity import clients, sessions, signin
from identity.context import ctx, request_language

blp = Blueprint("internal", __name__, url_prefix="/internal/v1", description="For the gateway")


class ClientCredentialsSchema(Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    client_secret = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ApiClientSchema(Schema):
    client_id = fields.String()
    institution_id = fields.UUID()
    name = fields.String()


@blp.route("/api-clients/authenticate")
class AuthenticateClient(MethodView):
    @require_role("gateway")
    @blp.arguments(ClientCredentialsSchema)
    @blp.response(200, ApiClientSchema)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Check an API client's credentials."""
        sessions: sessionmaker[Session] = current_app.extensions["nexam.runtime"].sessions
        with sessions() as session:
            row = clients.authenticate_client(session, body["client_id"], body["client_secret"])
        if row is None:
            raise ApiError(401, "invalid_client", "Unknown client or wrong secret.")
        return {"client_id": row.id, "institution_id": row.institution_id, "name": row.name}


class CodeStepSchema(Schema):
    challenge_id = fields.UUID(required=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SignedInSchema(Schema):
    """Who signed in, for the gateway to put in its access token."""

    session_id = fields.UUID()
    account_id = fields.UUID()
    refresh_token = fields.String()
    session_expires_at = fields.AwareDateTime()
    roles = fields.List(fields.String())
    amr = fields.List(fields.String())
    language = fields.String()


def _signed_in(opened: sessions.Opened, language: str) -> dict[str, Any]:
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
        opened, language = signin.finish(
            ctx(), body["challenge_id"], body["code"], request_language()
        )
        return _signed_in(opened, language)


@blp.route("/sessions/refresh")
class Refresh(MethodView):
    @require_role("gateway")
    @blp.arguments(RefreshSchema)
    @blp.response(200, SignedInSchema)
    @blp.alt_response(401, description="invalid_grant")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """The session's next refresh token; an old one presented again ends the session."""
        opened, language = signin.refresh(ctx(), body["refresh_token"], request_language())
        return _signed_in(opened, language)


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
        context = ctx()
        since = context.clock() - timedelta(seconds=query["within_seconds"])
        with context.sessions() as session:
            ended = sessions.ended_since(session, since)
        return {"sessions": [{"session_id": sid, "ended_at": when} for sid, when in ended]}
