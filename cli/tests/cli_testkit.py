"""What the tests of ``nexam`` share: a real invitations service served over HTTP on an
ephemeral port, with the worker's roster job running in a thread, and ``nexam`` driven as a
user would (click's runner on the real command group).

The tool itself imports no service; its tests need a server that answers the public API."""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from flask import Flask
from werkzeug.wrappers import Request, Response

from contracts.runtime.migrations import upgrade
from contracts.runtime.service import CONTEXT
from contracts.testing.serving import serving
from contracts.testing.tokens import TestTokens
from invitations import create_app
from invitations.config import Settings as InvitationSettings
from invitations.jobs import issue_waiting_rows
from nexam_cli import cli

HEADER = "email,first_name,last_name,evaluation_ref,evaluation_name,language"
MAX_BYTES = 64 * 1024
CLIENT_ID = "client-4f1b"
CLIENT_SECRET = "s3cret-client-value-never-shown"


@dataclass
class Worker:
    """The worker's roster job, in a thread; can be paused to keep a batch processing."""

    issue: Callable[[], int]
    running: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    round: threading.Lock = field(default_factory=threading.Lock)

    def loop(self) -> None:
        while not self.stop.wait(0.1):
            with self.round:
                if not self.running.is_set():
                    continue
                try:
                    self.issue()
                except Exception as exc:  # reported at teardown; the loop goes on
                    self.errors.append(exc)

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self.round:  # a round under way finishes first
            self.running.clear()
        try:
            yield
        finally:
            self.running.set()


class TokenEndpoint:
    """A stand-in for the gateway's ``POST /api/v1/oauth/token`` (a later issue), in front
    of the real service: one API client, tokens from the test key."""

    def __init__(self, app: Flask, tokens: TestTokens, institution: uuid.UUID) -> None:
        self.app = app
        self.tokens = tokens
        self.institution = institution
        self.exchanges = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/api/v1/oauth/token":
            return self.app(environ, start_response)
        form = request.form
        if (
            request.method != "POST"
            or form.get("grant_type") != "client_credentials"
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
        ):
            body = {"error": "invalid_client", "message": "Unknown client or wrong secret."}
            return Response(json.dumps(body), 401, mimetype="application/json")(
                environ, start_response
            )
        self.exchanges += 1
        token = self.tokens.mint(roles=("api_client",), institution=self.institution)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 900}
        return Response(json.dumps(body), 200, mimetype="application/json")(environ, start_response)


@dataclass
class Platform:
    url: str
    gateway_url: str
    tokens: TestTokens
    app: Flask
    worker: Worker
    token_endpoint: TokenEndpoint


@contextmanager
def running_platform(root: Path) -> Iterator[Platform]:
    """The service on a migrated SQLite database under ``root``; a failure of the worker's
    job fails the tests at teardown."""
    database_url = f"sqlite:///{root / 'invitations.db'}"
    upgrade("invitations", database_url)
    settings = InvitationSettings.from_env(
        {
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(root / "var"),
            "INVITATIONS_DATABASE_URL": database_url,
            "BUS_URL": f"filesystem://{root / 'bus'}",
            "INVITATIONS_BULK_MAX_BYTES": str(MAX_BYTES),
        }
    )
    tokens = TestTokens(settings.service.token_issuer, settings.service.token_audience)
    app = create_app(settings, verifier=tokens.verifier())
    context = app.extensions[CONTEXT]
    worker = Worker(lambda: issue_waiting_rows(context.sessions, context.issuing, context.clock))
    worker.running.set()
    worker_thread = threading.Thread(target=worker.loop, daemon=True)
    worker_thread.start()
    token_endpoint = TokenEndpoint(app, tokens, uuid.uuid4())
    try:
        with serving(app) as url, serving(token_endpoint) as gateway_url:
            yield Platform(url, gateway_url, tokens, app, worker, token_endpoint)
    finally:
        worker.stop.set()
        worker_thread.join(5)
        app.extensions["nexam.runtime"].engine.dispose()
    assert worker.errors == []


def coordinator_env(platform: Platform) -> dict[str, str | None]:
    """A coordinator of a fresh institution, so each test sees only its own invitations."""
    return {
        "NEXAM_URL": platform.url,
        "NEXAM_TOKEN": platform.tokens.mint(institution=uuid.uuid4()),
        "NEXAM_CLIENT_ID": None,
        "NEXAM_CLIENT_SECRET": None,
        "NEXAM_TIMEOUT": "20",
        "COLUMNS": None,  # tables in a pipe are as wide as they need
    }


def nexam(env: dict[str, str | None], *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, input=input, prog_name="nexam")
    # failures are messages with an exit status, never an escaped exception
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output,
        result.exception,
    )
    assert "Traceback" not in result.output
    return result


def tag() -> str:
    return uuid.uuid4().hex[:8]


def roster_rows(count: int, *, prefix: str, ref: str = "MATH101-FINAL-2026") -> list[list[str]]:
    return [
        [f"{prefix}.{n}@example.org", f"First{n}", f"Last{n}", ref, "Mathematics final", "fr"]
        for n in range(1, count + 1)
    ]


def write_csv(path: Path, rows: Iterable[list[str]], header: str = HEADER) -> Path:
    lines = [header, *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def items(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def counted(output: str, name: str) -> int:
    match = re.search(rf"^\s*{name}\s+(\d+)\b", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
