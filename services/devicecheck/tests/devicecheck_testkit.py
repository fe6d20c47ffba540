"""What the device check's tests share: the app on a migrated database with an injected
clock (and, where a test times uploads, an injected timer), candidates with tokens signed
like the gateway's, a run measured through the service's own endpoints, and the events in
the outbox."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Row, select
from werkzeug.test import TestResponse

from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.runtime.migrations import upgrade
from contracts.testing.clock import TestClock
from contracts.testing.tokens import TestTokens
from devicecheck import create_app
from devicecheck.config import Settings
from devicecheck.store import device_checks, outbox

START = datetime(2026, 11, 24, 9, 5, 30, tzinfo=UTC)
PREFIX = "/api/v1/device-checks"
KIB = 1024

#: what Chrome on a good line reports
PASSING: dict[str, Any] = {
    "screen_share": {"display_surface": "monitor"},
    "webcam": {"live": True, "width": 1280, "height": 720},
    "download_mbps": 48.5,
    "upload_mbps": 12.25,
    "latency_ms": 38.0,
    "document_displayed": True,
    "writing": {"typed": True, "autosave_ok": True},
    "browser": {"name": "Chrome", "version": "131.0.6778.85"},
}


def results(**changes: Any) -> dict[str, Any]:
    """``PASSING`` with some answers changed; a nested answer is merged into its object."""
    body = copy.deepcopy(PASSING)
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(name), dict):
            body[name].update(value)
        else:
            body[name] = value
    return body


class SteppingTimer:
    """A monotonic timer that moves ``step`` seconds each time it is read, so an upload
    read between two readings takes exactly ``step`` seconds."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@dataclass(frozen=True)
class Candidate:
    account_id: uuid.UUID
    headers: dict[str, str]

    def speaking(self, language: str) -> dict[str, str]:
        return {**self.headers, "Accept-Language": language}


@dataclass
class DeviceCheckWorld:
    app: Flask
    client: FlaskClient
    tokens: TestTokens
    clock: TestClock
    environ: dict[str, str]
    others: list[DeviceCheckWorld] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.extensions["nexam.runtime"].engine
        return engine

    def again(self, **env: str) -> DeviceCheckWorld:
        """Another app on the same database, clock and token key (a redeployment with other
        settings); closed with this one."""
        environ = {**self.environ, **env}
        app = create_app(
            Settings.from_env(environ), verifier=self.tokens.verifier(), clock=self.clock
        )
        other = DeviceCheckWorld(app, app.test_client(), self.tokens, self.clock, environ)
        self.others.append(other)
        return other

    def close(self) -> None:
        for other in self.others:
            other.close()
        self.engine.dispose()

    def candidate(self) -> Candidate:
        account_id = uuid.uuid4()
        headers = self.tokens.header(roles=("candidate",), subject=str(account_id))
        return Candidate(account_id, headers)

    # -- the API -----------------------------------------------------------------------------

    def start_answer(self, who: Candidate) -> TestResponse:
        return self.client.post(PREFIX, headers=who.headers)

    def start(self, who: Candidate) -> dict[str, Any]:
        answer = self.start_answer(who)
        assert answer.status_code == 201, answer.json
        run: dict[str, Any] = answer.json  # type: ignore[assignment]
        return run

    def download(self, who: Candidate, size: int, check_id: str | None = None) -> TestResponse:
        query: dict[str, Any] = {"bytes": size}
        if check_id:
            query["check_id"] = check_id
        return self.client.get(f"{PREFIX}/speed/download", query_string=query, headers=who.headers)

    def upload(self, who: Candidate, body: bytes, check_id: str | None = None) -> TestResponse:
        return self.client.post(
            f"{PREFIX}/speed/upload",
            query_string={"check_id": check_id} if check_id else {},
            data=body,
            headers={**who.headers, "Content-Type": "application/octet-stream"},
        )

    def ping(self, who: Candidate, check_id: str | None = None) -> TestResponse:
        return self.client.get(
            f"{PREFIX}/speed/ping",
            query_string={"check_id": check_id} if check_id else {},
            headers=who.headers,
        )

    def autosave(self, who: Candidate, check_id: str, content: str, revision: int) -> TestResponse:
        return self.client.put(
            f"{PREFIX}/{check_id}/autosave",
            json={"content": content, "revision": revision},
            headers=who.headers,
        )

    def measure(self, who: Candidate, run: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
        """What the page does before reporting, through the URLs the run gave: a download,
        an upload, pings, the document and an autosave; ``skip`` leaves some out."""
        headers = who.headers
        if "download" not in skip:
            answer = self.client.get(run["download_url"] + f"&bytes={256 * KIB}", headers=headers)
            assert answer.status_code == 200
        if "upload" not in skip:
            answer = self.client.post(run["upload_url"], data=b"\0" * 256 * KIB, headers=headers)
            assert answer.status_code == 200, answer.json
        if "latency" not in skip:
            for _ in range(3):
                assert self.client.get(run["latency_url"], headers=headers).status_code == 204
        if "document" not in skip:
            assert self.client.get(run["document_url"], headers=headers).status_code == 200
        if "writing" not in skip:
            answer = self.client.put(
                run["autosave_url"],
                json={"content": "The quick brown fox jumps over the lazy dog.", "revision": 0},
                headers=headers,
            )
            assert answer.status_code == 200, answer.json

    def report(
        self, who: Candidate, check_id: str, body: dict[str, Any], language: str = "en"
    ) -> TestResponse:
        return self.client.put(f"{PREFIX}/{check_id}", json=body, headers=who.speaking(language))

    def run(
        self, who: Candidate, body: dict[str, Any] | None = None, language: str = "en"
    ) -> TestResponse:
        """A whole run: started, measured, reported with ``body`` (a passing one by default)."""
        run = self.start(who)
        self.measure(who, run)
        return self.report(who, run["id"], body or PASSING, language)

    def latest(self, who: Candidate, language: str = "en") -> TestResponse:
        return self.client.get(f"{PREFIX}/latest", headers=who.speaking(language))

    # -- looking inside ----------------------------------------------------------------------

    def events(self, event_type: str | None = None) -> list[Event]:
        """The events in the outbox, decoded as a consumer would, oldest first."""
        with self.engine.connect() as db:
            bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.position)).all()
        return [decode(b) for b in bodies if event_type is None or b["type"] == event_type]

    def stored_run(self, check_id: str) -> Row[Any]:
        with self.engine.connect() as db:
            return db.execute(
                select(device_checks).where(device_checks.c.id == uuid.UUID(check_id))
            ).one()


@contextmanager
def devicecheck_world(
    database_url: str,
    tmp_path: Path,
    *,
    timer: Callable[[], float] | None = None,
    **env: str,
) -> Iterator[DeviceCheckWorld]:
    """The device check app on a freshly migrated database; its engine disposed afterwards."""
    upgrade("devicecheck", database_url)
    environ = {
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "DEVICECHECK_DATABASE_URL": database_url,
        "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        **env,
    }
    settings = Settings.from_env(environ)
    tokens = TestTokens(settings.service.token_issuer, settings.service.token_audience)
    clock = TestClock(START)
    app = create_app(settings, verifier=tokens.verifier(), clock=clock, timer=timer)
    world = DeviceCheckWorld(app, app.test_client(), tokens, clock, environ)
    try:
        yield world
    finally:
        world.close()
