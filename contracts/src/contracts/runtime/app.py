"""The Flask base every web process builds on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from flask_smorest import Api, Blueprint

from contracts.runtime.errors import install_error_handlers
from contracts.runtime.observability import ReadinessCheck, install_observability


def create_base_app(
    service: str,
    *,
    title: str,
    checks: Iterable[ReadinessCheck],
    blueprints: Iterable[Blueprint] = (),
    config: Mapping[str, Any] | None = None,
) -> tuple[Flask, Api]:
    app = Flask(service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = Api(app)
    install_error_handlers(app)  # after Api, so that ours replace flask-smorest's
    api.register_blueprint(install_observability(app, service, list(checks)))
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return app, api
