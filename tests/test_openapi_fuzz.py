"""Property-based fuzzing (schemathesis 4 + Hypothesis) of every OpenAPI document the platform
serves: each service's own ``/openapi.json`` (SQLite and the filesystem bus under a temporary
folder, migrated first), the gateway's own ``/openapi.json`` and its merged public
``/api/v1/openapi.json`` forwarded to the real services. No answer may be a server error.

The one exclusion, by design: ``/readyz`` answers 503 when a dependency is unavailable (that is
its job), so a 503 there is not a failure; any other 5xx there still is.

Hypothesis runs inside each test (``@given`` on an inner function, one per operation and
generation mode), not on the pytest test itself: the apps come from function-scoped fixtures and
``tmp_path``, which ``@given`` on a test would reuse across examples (its
``function_scoped_fixture`` health check). Examples are bounded per operation to stay fast."""

from __future__ import annotations

import importlib
import math
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from flask_smorest import Blueprint
from hypothesis import HealthCheck, given, settings
from marshmallow import Schema, fields
from werkzeug.serving import BaseWSGIServer, make_server

from contracts.runtime.app import create_base_app
from contracts.runtime.migrations import upgrade
from contracts.runtime.settings import ServiceSettings
from gateway import create_app as create_gateway
from gateway.config import GatewaySettings

SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")
MAX_EXAMPLES = 25
#: (path, status) answers that are not failures, and why: see the module docstring
ALLOWED_5XX = {("/readyz", 503)}

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the repository
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def fuzz(app: Flask, openapi_path: str = "/openapi.json") -> tuple[int, list[str]]:
    """Fuzz every operation of the document; (operations fuzzed, failures)."""
    schema = schemathesis.openapi.from_wsgi(openapi_path, app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # raises when the document itself is broken
        operations += 1
        modes = [schemathesis.GenerationMode.POSITIVE]
        if list(operation.iter_parameters()) or len(operation.body):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @FUZZ_SETTINGS
            def no_server_error(case: schemathesis.Case) -> None:
                response = case.call()
                status = response.status_code
                if status >= 500 and (case.operation.path, status) not in ALLOWED_5XX:
                    raise AssertionError(
                        f"{case.method} {case.formatted_path} query={case.query!r} "
                        f"headers={case.headers!r} body={case.body!r} -> {status}: "
                        f"{response.text[:300]}"
                    )

            try:
                no_server_error()
            except AssertionError as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return operations, failures


def service_app(service: str, tmp_path: Path, jwks_url: str | None = None) -> Flask:
    environ = {
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        f"{service.upper()}_DATABASE_URL": f"sqlite:///{tmp_path / f'{service}.db'}",
        "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
    }
    if jwks_url:
        environ["GATEWAY_JWKS_URL"] = jwks_url
    service_settings = ServiceSettings.from_env(service, environ)
    upgrade(service, service_settings.database_url)
    settings = importlib.import_module(f"{service}.config").Settings.for_service(
        service_settings, environ
    )
    app: Flask = importlib.import_module(service).create_app(settings)
    return app


@pytest.fixture
def make_service_app(tmp_path: Path) -> Iterator[Callable[[str], Flask]]:
    apps: list[Flask] = []

    def make(service: str, jwks_url: str | None = None) -> Flask:
        app = service_app(service, tmp_path / service, jwks_url)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["nexam.runtime"].engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_service_openapi_never_answers_a_server_error(
    service: str, make_service_app: Callable[[str], Flask]
) -> None:
    operations, failures = fuzz(make_service_app(service))
    assert operations >= 3  # /healthz, /readyz, /metrics at least
    assert failures == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gateway_openapi_never_answers_a_server_error(tmp_path: Path) -> None:
    environ = {"NEXAM_ENV": "test", "NEXAM_VAR_DIR": str(tmp_path / "var")}
    environ |= {f"{s.upper()}_URL": f"http://127.0.0.1:{_closed_port()}" for s in SERVICES}
    operations, failures = fuzz(create_gateway(GatewaySettings.from_env(environ)))
    assert operations >= 3
    assert failures == []


def test_public_api_through_the_gateway_never_answers_a_server_error(
    tmp_path: Path, make_service_app: Callable[[str], Flask]
) -> None:
    """The merged public document, fuzzed through the gateway forwarding to the real services
    (each served over HTTP on an ephemeral port)."""
    servers: list[BaseWSGIServer] = []
    threads: list[threading.Thread] = []
    environ = {"NEXAM_ENV": "test", "NEXAM_VAR_DIR": str(tmp_path / "gateway")}
    # the services trust the gateway's key from its JWKS, so the gateway is served too
    late_gateway: list[Flask] = []
    gateway_server = make_server(
        "127.0.0.1", 0, lambda env, start: late_gateway[0](env, start), threaded=True
    )
    jwks_url = f"http://127.0.0.1:{gateway_server.server_port}/.well-known/jwks.json"
    try:
        for service in SERVICES:
            app = make_service_app(service, jwks_url)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            environ[f"{service.upper()}_URL"] = f"http://127.0.0.1:{server.server_port}"
            servers.append(server)
        gateway = create_gateway(GatewaySettings.from_env(environ))
        late_gateway.append(gateway)
        servers.append(gateway_server)
        for server in servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            threads.append(thread)

        document = gateway.test_client().get("/api/v1/openapi.json").json
        operations, failures = fuzz(gateway, "/api/v1/openapi.json")

        assert operations == sum(
            len([m for m in item if m in {"get", "put", "post", "delete", "patch"}])
            for item in document["paths"].values()
        )
        assert all(path.startswith("/api/v1/") for path in document["paths"])
        assert failures == []
    finally:
        for server, _thread in zip(servers, threads, strict=False):
            server.shutdown()  # only those serving: shutdown waits for serve_forever
        for server in (*servers, gateway_server):
            server.server_close()
        for thread in threads:
            thread.join(5)


def test_the_fuzzer_finds_a_server_error() -> None:
    """The guard for the tests above: an operation that fails on some input is reported,
    and a 503 outside /readyz is not excused."""
    blp = Blueprint("fragile", __name__)

    @blp.route("/square-root")
    @blp.arguments(Schema.from_dict({"of": fields.Integer(required=True)}), location="query")
    @blp.response(200)
    def square_root(args: dict[str, int]) -> dict[str, float]:
        return {"result": math.sqrt(args["of"])}  # ValueError, so a 500, below zero

    @blp.route("/busy")
    @blp.response(200)
    def busy() -> tuple[dict[str, str], int]:
        return {"error": "busy"}, 503

    app, _api = create_base_app("fragile", title="Fragile", checks=[], blueprints=[blp])

    operations, failures = fuzz(app)

    assert operations == 5
    assert any(f.startswith("GET /square-root") and "-> 500" in f for f in failures), failures
    assert any(f.startswith("GET /busy") and "-> 503" in f for f in failures), failures
    assert not any("/readyz" in f or "/healthz" in f for f in failures), failures
