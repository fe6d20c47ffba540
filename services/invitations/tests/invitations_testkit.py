"""What the invitations service's tests share (the fixtures are in conftest.py): the world,
an app on a migrated database with an injected clock, a coordinator of a fresh institution,
the requests and events the tests make, and looks into the database and the outbox."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.sealing import open_sensitive
from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.events.examples import load_example
from contracts.runtime.migrations import upgrade
from contracts.runtime.service import CONTEXT
from contracts.testing.clock import TestClock
from contracts.testing.tokens import TestTokens
from invitations import create_app
from invitations.api import Context
from invitations.config import Settings
from invitations.handlers import handlers
from invitations.issuing import Issuing
from invitations.jobs import expire_due_invitations, issue_waiting_rows
from invitations.store import invitations, outbox

START = datetime(2026, 3, 2, 9, 15, 4, tzinfo=UTC)


@dataclass
class World:
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

    @property
    def issuing(self) -> Issuing:
        context: Context = self.app.extensions[CONTEXT]
        return context.issuing

    def auth(self, institution: uuid.UUID | None = None, **kwargs: Any) -> dict[str, str]:
        return self.tokens.header(institution=institution or self.institution, **kwargs)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Bodies of the events in the outbox, oldest first, their sealed fields opened as
        a consumer opens them."""
        with self.engine.connect() as db:
            bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.position)).all()
        sealer = self.app.extensions["nexam.runtime"].sealer
        return [
            open_sensitive(b, sealer)
            for b in bodies
            if event_type is None or b["type"] == event_type
        ]

    def handle(self, event: Event) -> None:
        """Run the service's handler for ``event`` as the consumer does."""
        with self.sessions() as session, session.begin():
            handlers(self.issuing.outbox, self.clock)[event.type](session, event)

    def invite(
        self,
        email: str = "ada@example.org",
        ref: str = "MATH101",
        *,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> Any:
        body = {
            "email": email,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "evaluation": {"ref": ref, "name": "Mathematics 101"},
            **fields,
        }
        return self.client.post("/api/v1/invitations", json=body, headers=headers or self.auth())

    def row(self, invitation_id: str | uuid.UUID) -> Any:
        with self.engine.connect() as db:
            return db.execute(
                select(invitations).where(invitations.c.id == uuid.UUID(str(invitation_id)))
            ).one()

    def digests(self) -> set[str | None]:
        with self.engine.connect() as db:
            return set(db.scalars(select(invitations.c.code_digest)))

    def invited(self, email: str = "ada@example.org", ref: str = "MATH101") -> dict[str, Any]:
        answer = self.client.post(
            "/api/v1/invitations",
            json={
                "email": email,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "evaluation": {"ref": ref, "name": "Mathematics 101"},
            },
            headers=self.auth(),
        )
        assert answer.status_code == 201, answer.get_json()
        body: dict[str, Any] = answer.get_json()
        return body

    def get(self, invitation_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/v1/invitations/{invitation_id}", headers=self.auth())
        assert answer.status_code == 200
        body: dict[str, Any] = answer.get_json()
        return body

    def resend(self, invitation_id: str) -> int:
        path = f"/api/v1/invitations/{invitation_id}/resend"
        return self.client.post(path, headers=self.auth()).status_code

    def activated(self, email: str, invitation_id: str) -> Event:
        body = load_example("AccountActivated")
        body["id"] = str(uuid.uuid4())
        body["correlation_id"] = body["id"]
        body["data"].update(
            email=email, invitation_id=invitation_id, institution_id=str(self.institution)
        )
        return decode(body)

    def announced(self, invitation_id: str) -> list[dict[str, Any]]:
        """The InvitationIssued events of one invitation, oldest first."""
        return [
            e["data"]
            for e in self.events("InvitationIssued")
            if e["data"]["invitation_id"] == invitation_id
        ]

    def post(self, invitation_id: str, action: str) -> Any:
        return self.client.post(
            f"/api/v1/invitations/{invitation_id}/{action}", headers=self.auth()
        )

    def sweep(self) -> int:
        return expire_due_invitations(self.sessions, self.issuing.outbox, self.clock)

    def digest_of(self, invitation_id: str) -> str | None:
        with self.engine.connect() as db:
            digest: str | None = db.scalar(
                select(invitations.c.code_digest).where(
                    invitations.c.id == uuid.UUID(invitation_id)
                )
            )
            return digest

    def activate(self, email: str, invitation_id: str | None = None) -> None:
        body = load_example("AccountActivated")
        body["id"] = str(uuid.uuid4())
        body["data"].update(
            email=email,
            invitation_id=invitation_id,
            institution_id=str(self.institution) if invitation_id else None,
        )
        if invitation_id is None:
            body["data"]["evaluation"] = None
        self.handle(decode(body))

    def upload(
        self, raw: bytes, content_type: str = "text/csv", institution: uuid.UUID | None = None
    ) -> Any:
        return self.client.post(
            "/api/v1/invitations/bulk",
            data=raw,
            content_type=content_type,
            headers=self.auth(institution),
        )

    def batch(self, batch_id: str, institution: uuid.UUID | None = None) -> Any:
        return self.client.get(
            f"/api/v1/invitations/batches/{batch_id}", headers=self.auth(institution)
        )

    def run_worker(self) -> int:
        return issue_waiting_rows(self.sessions, self.issuing, lambda: START)

    def count(self, table: Any) -> int:
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(table)) or 0)

    def invitation_by_email(self, email: str) -> dict[str, Any]:
        listing = self.client.get(
            "/api/v1/invitations", query_string={"email": email}, headers=self.auth()
        ).get_json()
        (item,) = listing["items"]
        result: dict[str, Any] = item
        return result


#: what starts a formula (OWASP), and what a spreadsheet may split a line on
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (",", ";", "\t", "|")


def formula_cells(text: str) -> list[str]:
    """The cells of CSV ``text`` that would start a formula, when it is read with each
    separator, by a reader that honours quotes and by one that ignores them."""
    found = []
    for separator in SEPARATORS:
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            lines = io.StringIO(text, newline="")
            for row in csv.reader(lines, delimiter=separator, quoting=quoting):
                found += [cell for cell in row if starts_a_formula(cell)]
    return found


def starts_a_formula(cell: str) -> bool:
    # a cell of nothing but a line end is the end of a line that a reader splitting on the
    # wrong separator took into a quoted field: nothing there to run
    start = cell.lstrip(" ")
    return start.startswith(FORMULA_STARTS) and not start.isspace()


def build_world(database_url: str, tmp_path: Path, **env: str) -> World:
    upgrade("invitations", database_url)
    key_file = tmp_path / "invitation-code.key"
    key_file.write_bytes(b"0123456789abcdef" * 4)
    settings = Settings.from_env(
        {
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "INVITATIONS_DATABASE_URL": database_url,
            "INVITATION_CODE_KEY_FILE": str(key_file),
            "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
            **env,
        }
    )
    tokens = TestTokens(settings.service.token_issuer, settings.service.token_audience)
    clock = TestClock(START)
    app = create_app(settings, verifier=tokens.verifier(), clock=clock)
    return World(app, app.test_client(), tokens, settings, clock, uuid.uuid4())


WorldFactory = Callable[..., World]
