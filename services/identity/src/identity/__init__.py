"""Nexam identity service."""

from __future__ import annotations

from flask import Flask

from contracts.web.auth import TokenVerifier
from contracts.web.service import build_runtime, create_service_app
from contracts.web.settings import ServiceSettings
from identity import store
from identity.api import blp
from identity.config import load_settings


def create_app(
    settings: ServiceSettings | None = None, *, verifier: TokenVerifier | None = None
) -> Flask:
    runtime = build_runtime(settings or load_settings(), store.metadata)
    return create_service_app(runtime, title="Nexam identity", blueprints=[blp], verifier=verifier)
