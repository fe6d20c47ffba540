"""Nexam notifier service."""

from __future__ import annotations

from flask import Flask

from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from notifier import store
from notifier.api import deliveries_blueprint
from notifier.config import load_settings


def create_app(
    settings: ServiceSettings | None = None, *, verifier: TokenVerifier | None = None
) -> Flask:
    runtime = build_runtime(settings or load_settings(), store.metadata)
    return create_service_app(
        runtime, title="Nexam notifier", blueprints=[deliveries_blueprint()], verifier=verifier
    )
