"""Nexam invitations service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from contracts.bus.outbox import Outbox
from contracts.web.auth import TokenVerifier
from contracts.web.service import build_runtime, create_service_app
from invitations import store
from invitations.api import EXTENSION, Context, blp
from invitations.config import InvitationSettings
from invitations.service import Issuer


def create_app(
    settings: InvitationSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    settings = settings or InvitationSettings.from_env()
    runtime = build_runtime(settings.service, store.metadata)
    app = create_service_app(
        runtime, title="Nexam invitations", blueprints=[blp], verifier=verifier
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.bulk_max_bytes
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        issuer=Issuer(Outbox(store.metadata, settings.service.service), settings.code_key),
        clock=clock or (lambda: datetime.now(UTC)),
        max_rows=settings.bulk_max_rows,
    )
    return app
