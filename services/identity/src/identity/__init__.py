"""Nexam identity service."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from contracts.runtime.settings import ServiceSettings
from identity import store
from identity.accounts_api import blp as accounts_blp
from identity.activation_api import blp as activation_blp
from identity.api import Context
from identity.challenges import OneTimeCodes
from identity.config import code_key, load_settings, refresh_reuse_leeway
from identity.internal_api import blp as internal_blp
from identity.passwords import Passwords
from identity.terms import Terms


def create_app(
    settings: ServiceSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """Activation tokens, one-time-code challenges, accounts: no answer is kept by a cache."""
    settings = settings or load_settings(environ)
    runtime = build_runtime(settings, store.metadata)
    assert runtime.outbox is not None
    key = code_key(settings, environ)
    return create_service_app(
        runtime,
        title="Nexam identity",
        blueprints=[activation_blp, accounts_blp, internal_blp],
        verifier=verifier,
        context=Context(
            sessions=runtime.sessions,
            code_key=key,
            clock=clock or utcnow,
            outbox=runtime.outbox,
            codes=OneTimeCodes(key, runtime.outbox),
            passwords=passwords or Passwords(),
            terms=Terms.from_env(environ),
            public_url=settings.public_url,
            refresh_reuse_leeway=refresh_reuse_leeway(environ),
        ),
        no_store=True,
    )
