"""``POST /api/v1/oauth/token`` for API clients (RFC 6749 client credentials). Identity
checks the credentials; the gateway signs the access token."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, jsonify, request

from contracts.runtime.errors import error_response
from gateway.config import GatewaySettings
from gateway.identity import IdentityClient, load_api_client
from gateway.tokens import TokenMinter


def oauth_blueprint(
    settings: GatewaySettings, minter: TokenMinter, identity: IdentityClient
) -> Blueprint:
    blp = Blueprint("oauth", __name__)

    @blp.post("/api/v1/oauth/token")
    def token() -> Response:
        if request.form.get("grant_type") != "client_credentials":
            return error_response(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is offered."
            )
        basic = request.authorization  # RFC 6749 2.3.1 allows HTTP Basic as well as the form
        client_id = request.form.get("client_id") or (basic.username if basic else None)
        secret = request.form.get("client_secret") or (basic.password if basic else None)
        if not client_id or not secret:
            return error_response(400, "invalid_request", "Give client_id and client_secret.")
        answer = identity.post(
            "/internal/v1/api-clients/authenticate",
            {"client_id": client_id, "client_secret": secret},
            request,
        )
        if answer.status_code in (401, 422):
            response = error_response(401, "invalid_client", "Unknown client or wrong secret.")
            response.headers["WWW-Authenticate"] = 'Basic realm="nexam"'
            return response
        if answer.status_code != 200:
            return error_response(502, "bad_gateway", "Sign-in gave no valid answer.")
        client = load_api_client(answer.json())
        lifetime = timedelta(seconds=settings.access_token_seconds)
        access = minter.mint(
            subject=client["client_id"],
            roles=["api_client"],
            institution=client["institution_id"],
            amr=["client_credentials"],
            lifetime=lifetime,
        )
        response = jsonify(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": settings.access_token_seconds,
            }
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    return blp
