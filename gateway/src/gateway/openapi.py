"""The public OpenAPI document: the ``/api/v1`` paths of every service, merged."""

from __future__ import annotations

import logging
from typing import Any

import requests

from gateway.proxy import ServiceProxy
from gateway.routing import owner_of

log = logging.getLogger(__name__)


def _json_body(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": list(properties),
                }
            }
        },
    }


def _answers(ok: str, *errors: tuple[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "200": {
            "description": ok,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tokens"}}},
        }
    }
    for status, description in errors:
        answers[status] = {"description": description}
    return answers


#: what the gateway serves itself: the token endpoints, whose answers it signs
GATEWAY_PATHS: dict[str, Any] = {
    "/api/v1/oauth/token": {
        "post": {
            "summary": "An access token for an API client (client credentials grant)",
            "tags": ["tokens"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                            "required": ["grant_type"],
                        }
                    }
                },
            },
            "responses": _answers(
                "An access token for the client's institution",
                ("400", "unsupported_grant_type or invalid_request"),
                ("401", "invalid_client"),
            ),
        }
    },
    "/api/v1/sessions/two-factor": {
        "post": {
            "summary": "Sign in, second step: the emailed code gives the tokens",
            "tags": ["tokens"],
            "requestBody": _json_body(
                {"challenge_id": {"type": "string", "format": "uuid"}, "code": {"type": "string"}}
            ),
            "responses": _answers(
                "Access and refresh tokens",
                ("401", "invalid_code"),
                ("429", "too_many_attempts or rate_limited, with Retry-After"),
            ),
        }
    },
    "/api/v1/sessions/refresh": {
        "post": {
            "summary": "New tokens for a refresh token, which is used up",
            "tags": ["tokens"],
            "requestBody": _json_body({"refresh_token": {"type": "string"}}),
            "responses": _answers(
                "Access and a new refresh token",
                ("401", "invalid_grant (a reused refresh token ends its session)"),
                ("429", "too_many_attempts, with Retry-After"),
            ),
        }
    },
}

TOKENS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
    },
    "required": ["access_token", "token_type", "expires_in"],
}


def merged_openapi(proxy: ServiceProxy, public_url: str) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Nexam public API", "version": "1"},
        "servers": [{"url": public_url}],
        "paths": dict(GATEWAY_PATHS),
        "components": {"schemas": {"Tokens": TOKENS_SCHEMA}},
    }
    for service, base in proxy.service_urls.items():
        try:
            document = proxy.http.get(f"{base}/openapi.json", timeout=proxy.timeout).json()
        except (requests.RequestException, ValueError):
            log.warning("no OpenAPI document from %s", service)
            continue
        for path, item in document.get("paths", {}).items():
            # a service documents only what it owns publicly
            if owner_of(path) == service and path not in GATEWAY_PATHS:
                merged["paths"][path] = item
        # every section (schemas, responses, parameters...), or $refs would dangle
        for section, entries in document.get("components", {}).items():
            merged["components"].setdefault(section, {}).update(entries)
    return merged
