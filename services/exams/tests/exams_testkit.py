"""What the exams service's tests share: the app on a migrated database with an injected
clock, tokens signed like the gateway's for coordinators and candidates, the other services'
events fed through the service's own handlers, and short ways to schedule, start and submit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.runtime.migrations import upgrade
from contracts.testing.clock import TestClock
from contracts.testing.events import example_event
from contracts.testing.tokens import TestTokens
from exams import create_app
from exams.config import Settings
from exams.handlers import handlers
from exams.store import outbox
from exams.technical_test import subject_pdf

#: the clock starts a day before the exams the tests schedule
START = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)
EXAM_AT = datetime(2026, 6, 2, 9, 0, 0, tzinfo=UTC)
PDF = subject_pdf(("Mathematics 101: final exam", "Question 1. Prove it."))
EVALUATION = {"ref": "MATH101-FINAL-2026", "name": "Mathematics 101"}
#: a start that meets every requirement an exam can have
READY = {
    "terms_accepted": True,
    "screen_share": {"display_surface": "monitor"},
    "webcam": {"ok": True},
}
EVERYTHING = {"screen_share": True, "webcam": True, "device_check": True, "technical_test": True}


@dataclass
class ExamsWorld:
    app: Flask
    client: FlaskClient
    tokens: TestTokens
    settings: Settings
    clock: TestClock
    institution: uuid.UUID

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.extensions["nexam.runtime"].engine
        return engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        sessions: sessionmaker[Session] = self.app.extensions["nexam.runtime"].sessions
        return sessions

    # -- tokens ------------------------------------------------------------------------------

    def coordinator(self, institution: uuid.UUID | None = None) -> dict[str, str]:
        return self.tokens.header(
            roles=("coordinator",), institution=institution or self.institution
        )

    def candidate(self, account_id: uuid.UUID, **headers: str) -> dict[str, str]:
        return {**self.tokens.header(roles=("candidate",), subject=str(account_id)), **headers}

    # -- events ------------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Run the service's handler for ``event`` as its consumer does."""
        with self.sessions() as session, session.begin():
            handlers(self.clock)[event.type](session, event)

    def events(self, event_type: str | None = None) -> list[Event]:
        """The events in the outbox, decoded as a consumer would, oldest first."""
        with self.engine.connect() as db:
            bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.position)).all()
        return [decode(b) for b in bodies if event_type is None or b["type"] == event_type]

    def activated(
        self,
        email: str = "ada@example.org",
        *,
        account_id: uuid.UUID | None = None,
        evaluation: dict[str, str] | None = EVALUATION,
        institution: uuid.UUID | None = None,
        first_name: str = "Ada",
        language: str = "en",
    ) -> uuid.UUID:
        """AccountActivated for an account invited to ``evaluation``; the account's id."""
        account_id = account_id or uuid.uuid4()
        self.handle(
            example_event(
                "AccountActivated",
                account_id=account_id,
                email=email,
                first_name=first_name,
                language=language,
                invitation_id=uuid.uuid4() if evaluation else None,
                institution_id=(institution or self.institution) if evaluation else None,
                evaluation=evaluation,
                activated_at=self.clock(),
            )
        )
        return account_id

    def invited_existing(
        self,
        email: str = "ada@example.org",
        *,
        evaluation: dict[str, str] = EVALUATION,
        institution: uuid.UUID | None = None,
    ) -> None:
        """InvitationIssued for an address that already has an account: no code."""
        self.handle(
            example_event(
                "InvitationIssued",
                invitation_id=uuid.uuid4(),
                institution_id=institution or self.institution,
                email=email,
                evaluation=evaluation,
                account_exists=True,
                code=None,
                expires_at=None,
            )
        )

    def device_validated(
        self, account_id: uuid.UUID, valid_for: timedelta = timedelta(days=2), **data: Any
    ) -> None:
        at = data.pop("validated_at", self.clock())
        self.handle(
            example_event(
                "DeviceValidated",
                check_id=uuid.uuid4(),
                account_id=account_id,
                validated_at=at,
                valid_until=at + valid_for,
                **data,
            )
        )

    # -- the coordinator ---------------------------------------------------------------------

    def put_evaluation(
        self,
        ref: str = EVALUATION["ref"],
        name: str = EVALUATION["name"],
        institution: uuid.UUID | None = None,
    ) -> TestResponse:
        return self.client.put(
            f"/api/v1/evaluations/{ref}", json={"name": name}, headers=self.coordinator(institution)
        )

    def create_exam(
        self, ref: str = EVALUATION["ref"], *, institution: uuid.UUID | None = None, **fields: Any
    ) -> TestResponse:
        body = {"title": "Final exam", "starts_at": EXAM_AT.isoformat(), "duration_minutes": 90}
        return self.client.post(
            f"/api/v1/evaluations/{ref}/exams",
            json={**body, **fields},
            headers=self.coordinator(institution),
        )

    def upload(
        self,
        exam_id: str,
        data: bytes = PDF,
        content_type: str = "application/pdf",
        institution: uuid.UUID | None = None,
    ) -> TestResponse:
        return self.client.put(
            f"/api/v1/exams/{exam_id}/document",
            data=data,
            headers={**self.coordinator(institution), "Content-Type": content_type},
        )

    def exam(self, requires: dict[str, bool] | None = None, **fields: Any) -> str:
        """An exam of the evaluation, with its subject; its id."""
        self.put_evaluation()
        answer = self.create_exam(requires=requires or {}, **fields)
        assert answer.status_code == 201, answer.json
        exam_id: str = answer.json["id"]  # type: ignore[index]
        assert self.upload(exam_id).status_code == 200
        return exam_id

    # -- the candidate -----------------------------------------------------------------------

    def start(
        self, exam_id: str, account_id: uuid.UUID, body: dict[str, Any] = READY, **headers: str
    ) -> TestResponse:
        return self.client.post(
            f"/api/v1/exams/{exam_id}/start",
            json=body,
            headers=self.candidate(account_id, **headers),
        )

    def started(self, exam_id: str, account_id: uuid.UUID) -> str:
        answer = self.start(exam_id, account_id)
        assert answer.status_code == 201, answer.json
        attempt_id: str = answer.json["attempt_id"]  # type: ignore[index]
        return attempt_id

    def save(
        self, attempt_id: str, account_id: uuid.UUID, content: str, revision: int, **headers: str
    ) -> TestResponse:
        return self.client.put(
            f"/api/v1/attempts/{attempt_id}/answer",
            json={"content": content, "revision": revision},
            headers=self.candidate(account_id, **headers),
        )

    def submit(self, attempt_id: str, account_id: uuid.UUID) -> TestResponse:
        return self.client.post(
            f"/api/v1/attempts/{attempt_id}/submit", headers=self.candidate(account_id)
        )

    def dashboard(self, account_id: uuid.UUID) -> dict[str, Any]:
        answer = self.client.get("/api/v1/dashboard", headers=self.candidate(account_id))
        assert answer.status_code == 200, answer.json
        board: dict[str, Any] = answer.json  # type: ignore[assignment]
        return board

    def technical_test_done(self, account_id: uuid.UUID) -> None:
        """A practice run of the technical test, started and submitted."""
        answer = self.client.post(
            "/api/v1/technical-test/start", json=READY, headers=self.candidate(account_id)
        )
        assert answer.status_code == 201, answer.json
        assert self.submit(answer.json["attempt_id"], account_id).status_code == 201  # type: ignore[index]

    def ready_candidate(self, email: str = "ada@example.org", **kwargs: Any) -> uuid.UUID:
        """An enrolled candidate with a valid device check and the technical test done."""
        account_id = self.activated(email, **kwargs)
        self.device_validated(account_id)
        self.technical_test_done(account_id)
        return account_id


@contextmanager
def exams_world(database_url: str, tmp_path: Path, **env: str) -> Iterator[ExamsWorld]:
    """The exams app on a freshly migrated database; its engine disposed afterwards."""
    upgrade("exams", database_url)
    settings = Settings.from_env(
        {
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "EXAMS_DATABASE_URL": database_url,
            "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
            **env,
        }
    )
    tokens = TestTokens(settings.service.token_issuer, settings.service.token_audience)
    clock = TestClock(START)
    app = create_app(settings, verifier=tokens.verifier(), clock=clock)
    world = ExamsWorld(app, app.test_client(), tokens, settings, clock, uuid.uuid4())
    try:
        yield world
    finally:
        world.engine.dispose()
