"""Nexam devicecheck service."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import resources

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from devicecheck import store
from devicecheck.api import Context, blp
from devicecheck.config import Settings
from devicecheck.speed import MAX_BYTES


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
    timer: Callable[[], float] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    settings = settings or Settings.from_env(environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    app = create_service_app(
        runtime,
        title="Nexam devicecheck",
        blueprints=[blp],
        verifier=verifier,
        context=Context(
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            clock=clock or utcnow,
            timer=timer or time.perf_counter,
            thresholds=settings.thresholds,
            budget=settings.budget,
            document=resources.files("devicecheck").joinpath("sample.pdf").read_bytes(),
        ),
        # a candidate's runs and results, and speed-test bytes that must cross the network
        no_store=True,
    )
    # the upload is the largest body the service takes; the JSON ones are far smaller
    app.config["MAX_CONTENT_LENGTH"] = MAX_BYTES
    return app
