"""Nexam invitations service."""

from __future__ import annotations

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from invitations import store
from invitations.api import Context, blp
from invitations.config import Settings
from invitations.issuing import Issuing


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    context = Context(
        sessions=runtime.sessions,
        issuing=Issuing(runtime.outbox, settings.code_key),
        clock=clock or utcnow,
        settings=settings,
    )
    app = create_service_app(
        runtime, title="Nexam invitations", blueprints=[blp], verifier=verifier, context=context
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.bulk_max_bytes
    return app
