"""Nexam exams service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response

from contracts.bus.outbox import Outbox
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from exams import store
from exams.candidate_api import blp as candidate_blp
from exams.config import ExamSettings
from exams.context import EXTENSION, Context
from exams.coordinator_api import blp as coordinator_blp


def create_app(
    settings: ExamSettings | ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    if settings is None:
        settings = ExamSettings.from_env()
    elif isinstance(settings, ServiceSettings):
        settings = ExamSettings.for_service(settings)
    runtime = build_runtime(settings.service, store.metadata)
    app = create_service_app(
        runtime,
        title="Nexam exams",
        blueprints=[coordinator_blp, candidate_blp],
        verifier=verifier,
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        outbox=Outbox(store.metadata, settings.service.service),
        clock=clock or (lambda: datetime.now(UTC)),
        settings=settings,
    )
    app.after_request(_not_cached)
    return app


def _not_cached(response: Response) -> Response:
    # subjects, answers and copies: nothing here belongs in a cache
    response.headers.setdefault("Cache-Control", "no-store")
    return response
