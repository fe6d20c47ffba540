"""Nexam devicecheck service."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources

from flask import Flask, Response

from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from devicecheck import store
from devicecheck.api import blp
from devicecheck.config import DeviceCheckSettings
from devicecheck.context import EXTENSION, Context
from devicecheck.speed import MAX_BYTES


def create_app(
    settings: DeviceCheckSettings | ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
    timer: Callable[[], float] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    if settings is None:
        settings = DeviceCheckSettings.from_env(environ)
    elif isinstance(settings, ServiceSettings):
        settings = DeviceCheckSettings.for_service(settings, environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    app = create_service_app(
        runtime, title="Nexam devicecheck", blueprints=[blp], verifier=verifier
    )
    # the upload is the largest body the service takes; the JSON ones are far smaller
    app.config["MAX_CONTENT_LENGTH"] = MAX_BYTES
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        clock=clock or (lambda: datetime.now(UTC)),
        timer=timer or time.perf_counter,
        thresholds=settings.thresholds,
        budget=settings.budget,
        document=resources.files("devicecheck").joinpath("sample.pdf").read_bytes(),
    )
    app.after_request(_not_cached)
    return app


def _not_cached(response: Response) -> Response:
    # a candidate's runs and results, and speed-test bytes that must cross the network
    response.headers.setdefault("Cache-Control", "no-store")
    return response
