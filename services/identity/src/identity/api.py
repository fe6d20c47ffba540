"""Identity's internal API, called by the gateway only (role ``gateway``): the gateway
turns identity's decisions into tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session, sessionmaker

from contracts.web.auth import require_role
from contracts.web.errors import ApiError
from identity import clients

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
