"""Nexam exams service."""

from __future__ import annotations

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from exams import store
from exams.api import Context
from exams.candidate_api import blp as candidate_blp
from exams.config import Settings
from exams.coordinator_api import blp as coordinator_blp


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    app = create_service_app(
        runtime,
        title="Nexam exams",
        blueprints=[coordinator_blp, candidate_blp],
        verifier=verifier,
        context=Context(
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            clock=clock or utcnow,
            settings=settings,
        ),
        # subjects, answers and copies: nothing here belongs in a cache
        no_store=True,
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    return app
