"""What every service assembles the same way: its database, its bus address, its outbox,
and a Flask app with the shared base and CLI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, Response, current_app
from flask_smorest import Blueprint
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.connection import BusAddress
from contracts.bus.outbox import Outbox
from contracts.bus.sealing import Sealer
from contracts.bus.tables import OUTBOX
from contracts.runtime.app import create_base_app
from contracts.runtime.auth import VERIFIER_EXTENSION, TokenVerifier
from contracts.runtime.cli import install_bus_commands
from contracts.runtime.database import make_engine, make_sessions
from contracts.runtime.keyfiles import bus_sealer
from contracts.runtime.observability import bus_check, database_check
from contracts.runtime.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceRuntime:
    settings: ServiceSettings
    metadata: MetaData
    engine: Engine
    sessions: sessionmaker[Session]
    bus: BusAddress
    outbox: Outbox | None
    #: seals sensitive event fields before they are written, opens them on receipt
    sealer: Sealer


def build_runtime(settings: ServiceSettings, metadata: MetaData) -> ServiceRuntime:
    engine = make_engine(settings.database_url)
    sealer = bus_sealer(settings)
    return ServiceRuntime(
        settings=settings,
        metadata=metadata,
        engine=engine,
        sessions=make_sessions(engine),
        bus=BusAddress(settings.bus_url, settings.var_dir),
        outbox=(
            Outbox(metadata, settings.service, sealer=sealer) if OUTBOX in metadata.tables else None
        ),
        sealer=sealer,
    )


def create_service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    blueprints: Iterable[Blueprint] = (),
    verifier: TokenVerifier | None = None,
    context: object | None = None,
    no_store: bool = False,
) -> Flask:
    """The service's app: the shared base, its blueprints, the verifier of the gateway's
    tokens, and ``context``, what its views are given (``current_context``). With
    ``no_store``, no answer may be kept by a cache (tokens, answers, results)."""
    app, _api = create_base_app(
        runtime.settings.service,
        title=title,
        checks=[database_check(runtime.engine), bus_check(runtime.bus)],
        blueprints=blueprints,
    )
    app.extensions["nexam.runtime"] = runtime
    settings = runtime.settings
    if verifier is None:
        verifier = TokenVerifier(
            settings.token_issuer, settings.token_audience, jwks_url=settings.jwks_url
        )
        verifier.keep_keys_fresh()
    app.extensions[VERIFIER_EXTENSION] = verifier
    if runtime.outbox is not None:
        install_bus_commands(app, runtime.outbox, runtime.sessions)
    if context is not None:
        app.extensions[CONTEXT] = context
    if no_store:
        app.after_request(_not_stored)
    return app


CONTEXT = "nexam.context"
C = TypeVar("C")


def current_context(kind: type[C]) -> C:
    """What ``create_service_app`` was given for the views, as the service's own type."""
    context = current_app.extensions[CONTEXT]
    if not isinstance(context, kind):
        raise TypeError(f"this app's context is a {type(context).__name__}, not a {kind.__name__}")
    return context


def _not_stored(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response
