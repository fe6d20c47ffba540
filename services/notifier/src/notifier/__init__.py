"""Nexam notifier service."""

from __future__ import annotations

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from notifier import store
from notifier.api import Context, deliveries_blueprint
from notifier.config import Settings


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings.service, store.metadata)
    return create_service_app(
        runtime,
        title="Nexam notifier",
        blueprints=[deliveries_blueprint()],
        verifier=verifier,
        context=Context(sessions=runtime.sessions, clock=clock or utcnow, settings=settings),
    )
