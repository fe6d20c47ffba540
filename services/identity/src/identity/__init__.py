"""Nexam identity service."""

from __future__ import annotations

from flask import Flask

from contracts.events.clock import Clock, utcnow
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.service import build_runtime, create_service_app
from identity import store
from identity.accounts_api import blp as accounts_blp
from identity.activation_api import blp as activation_blp
from identity.api import Context
from identity.challenges import OneTimeCodes
from identity.config import Settings
from identity.internal_api import blp as internal_blp
from identity.oidc import Partners
from identity.partners_api import blp as partners_blp
from identity.passwords import Passwords


def create_app(
    settings: Settings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
    partners: Partners | None = None,
) -> Flask:
    """Activation tokens, one-time-code challenges, accounts: no answer is kept by a cache."""
    settings = settings or Settings.from_env()
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    key = settings.code_key
    return create_service_app(
        runtime,
        title="Nexam identity",
        blueprints=[activation_blp, accounts_blp, internal_blp, partners_blp],
        verifier=verifier,
        context=Context(
            sessions=runtime.sessions,
            code_key=key,
            clock=clock or utcnow,
            outbox=runtime.outbox,
            codes=OneTimeCodes(key, runtime.outbox),
            passwords=passwords or Passwords(),
            terms=settings.terms,
            public_url=settings.service.public_url,
            refresh_reuse_leeway=settings.refresh_reuse_leeway,
            partners=partners or Partners(settings.partners, settings.service.public_url),
        ),
        no_store=True,
    )
