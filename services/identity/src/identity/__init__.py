"""Nexam identity service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from contracts.web.auth import TokenVerifier
from contracts.web.service import build_runtime, create_service_app
from contracts.web.settings import ServiceSettings
from identity import store
from identity.activation_api import EXTENSION, Context
from identity.activation_api import blp as activation_blp
from identity.api import blp as internal_blp
from identity.config import code_key, load_settings


def create_app(
    settings: ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    settings = settings or load_settings()
    runtime = build_runtime(settings, store.metadata)
    app = create_service_app(
        runtime,
        title="Nexam identity",
        blueprints=[activation_blp, internal_blp],
        verifier=verifier,
    )
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        code_key=code_key(settings),
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return app
