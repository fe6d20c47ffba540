"""Nexam invitations service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from invitations import store
from invitations.api import EXTENSION, Context, blp
from invitations.config import InvitationSettings
from invitations.service import Issuer


def create_app(
    settings: InvitationSettings | ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    if settings is None:
        settings = InvitationSettings.from_env()
    elif isinstance(settings, ServiceSettings):
        settings = InvitationSettings.for_service(settings)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    app = create_service_app(
        runtime, title="Nexam invitations", blueprints=[blp], verifier=verifier
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.bulk_max_bytes
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        issuer=Issuer(runtime.outbox, settings.code_key),
        clock=clock or (lambda: datetime.now(UTC)),
        max_rows=settings.bulk_max_rows,
    )
    return app
