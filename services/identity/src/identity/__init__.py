"""Nexam identity service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from flask import Flask, Response

from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from identity import store
from identity.accounts_api import blp as accounts_blp
from identity.activation_api import blp as activation_blp
from identity.api import blp as internal_blp
from identity.challenges import OneTimeCodes
from identity.config import code_key, load_settings, refresh_reuse_leeway
from identity.context import EXTENSION, Context
from identity.passwords import Passwords
from identity.terms import Terms


def create_app(
    settings: ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
    passwords: Passwords | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    settings = settings or load_settings(environ)
    runtime = build_runtime(settings, store.metadata)
    assert runtime.outbox is not None
    app = create_service_app(
        runtime,
        title="Nexam identity",
        blueprints=[activation_blp, accounts_blp, internal_blp],
        verifier=verifier,
    )
    key = code_key(settings, environ)
    app.extensions[EXTENSION] = Context(
        sessions=runtime.sessions,
        code_key=key,
        clock=clock or (lambda: datetime.now(UTC)),
        outbox=runtime.outbox,
        codes=OneTimeCodes(key, runtime.outbox),
        passwords=passwords or Passwords(),
        terms=Terms.from_env(environ),
        public_url=settings.public_url,
        refresh_reuse_leeway=refresh_reuse_leeway(environ),
    )
    app.after_request(_not_cached)
    return app


def _not_cached(response: Response) -> Response:
    # activation tokens, one-time-code challenges, accounts: nothing here belongs in a cache
    response.headers.setdefault("Cache-Control", "no-store")
    return response
