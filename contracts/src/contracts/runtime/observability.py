"""``/healthz``, ``/readyz`` and ``/metrics`` for every web process, plus request metrics."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from flask import Flask, Response, g, request
from flask_smorest import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import Engine, text

from contracts.bus.connection import BusAddress
from contracts.runtime.errors import error_response


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    probe: Callable[[], None]  # raises when not ready


def database_check(engine: Engine) -> ReadinessCheck:
    def probe() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return ReadinessCheck("database", probe)


def bus_check(bus: BusAddress) -> ReadinessCheck:
    def probe() -> None:
        if bus.is_filesystem:
            bus.connect().release()  # creates the folders on a fresh checkout
            folder = bus.folder / "data"
            if not (folder.is_dir() and os.access(folder, os.W_OK)):
                raise RuntimeError(f"{folder} is not a writable folder")
            return
        with bus.connect() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)

    return ReadinessCheck("bus", probe)


@dataclass(frozen=True)
class HttpMetrics:
    requests: Counter
    latency: Histogram


@cache
def http_metrics() -> HttpMetrics:
    return HttpMetrics(
        requests=Counter(
            "nexam_http_requests",
            "HTTP requests served.",
            ["service", "method", "endpoint", "status"],
        ),
        latency=Histogram(
            "nexam_http_request_seconds",
            "Time to serve a request.",
            ["service", "endpoint"],
        ),
    )


def install_observability(app: Flask, service: str, checks: list[ReadinessCheck]) -> Blueprint:
    blp = Blueprint("observability", __name__, description="Liveness, readiness and metrics")
    metrics = http_metrics()

    @blp.route("/healthz")
    @blp.response(200)
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "service": service}

    @blp.route("/readyz")
    @blp.response(200)
    @blp.alt_response(503, description="A dependency is not reachable")
    def readyz() -> Response | dict[str, object]:
        """The database and the bus are reachable."""
        results: dict[str, str] = {}
        for check in checks:
            try:
                check.probe()
                results[check.name] = "ok"
            except Exception as exc:  # any failure means not ready; the reason is reported
                results[check.name] = f"unavailable: {type(exc).__name__}"
        if all(v == "ok" for v in results.values()):
            return {"status": "ready", "service": service, "checks": results}
        return error_response(503, "not_ready", "A dependency is unavailable.", checks=results)

    @blp.route("/metrics")
    @blp.response(200, content_type=CONTENT_TYPE_LATEST)
    def metrics_page() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    @app.before_request
    def _start_timer() -> None:
        g.nexam_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        metrics.requests.labels(service, request.method, endpoint, str(response.status_code)).inc()
        started = g.get("nexam_started")
        if started is not None:
            metrics.latency.labels(service, endpoint).observe(time.perf_counter() - started)
        return response

    return blp
