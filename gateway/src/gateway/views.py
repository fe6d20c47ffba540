"""The gateway's own routes: the JWKS, the merged OpenAPI document, and the catch-all that
forwards ``/api/v1/*`` to the owning service."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import Blueprint, Flask, Response, jsonify, request

from contracts.runtime.errors import error_response
from gateway.config import GatewaySettings
from gateway.keys import SigningKey
from gateway.openapi import merged_openapi
from gateway.proxy import ServiceProxy
from gateway.routing import owner_of
from gateway.tokens import TokenMinter

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def public_blueprint(settings: GatewaySettings, key: SigningKey, proxy: ServiceProxy) -> Blueprint:
    blp = Blueprint("public", __name__)

    @blp.get("/.well-known/jwks.json")
    def jwks() -> Response:
        response = jsonify(key.jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @blp.get("/api/v1/openapi.json")
    def openapi() -> Response:
        return jsonify(merged_openapi(proxy, settings.public_url))

    @blp.route("/api/v1/<path:_rest>", methods=METHODS)
    def forward(_rest: str) -> Response:
        service = owner_of(request.path)
        if service is None:
            return error_response(404, "not_found", "No such API endpoint.")
        return proxy.forward(service, request)

    return blp


def install_cli(
    app: Flask, settings: GatewaySettings, minter: TokenMinter, lifetime: timedelta
) -> None:
    @app.cli.command("dev-token")
    @click.option("--subject", default="dev-coordinator")
    @click.option("--role", "roles", multiple=True, default=["coordinator"])
    @click.option("--institution", default=None)
    def dev_token(subject: str, roles: tuple[str, ...], institution: str | None) -> None:
        """Print an access token signed with the gateway's key (dev and test only)."""
        if settings.env == "prod":
            raise click.ClickException("dev-token is refused when NEXAM_ENV=prod")
        token = minter.mint(
            subject=subject,
            roles=roles,
            institution=institution,
            amr=["dev"],
            lifetime=lifetime,
        )
        click.echo(json.dumps({"access_token": token, "token_type": "Bearer"}))
