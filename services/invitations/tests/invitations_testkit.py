"""What the invitations service's tests share: an app on a migrated database with an
injected clock, a coordinator of a fresh institution, and looks into the outbox."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.sealing import open_sensitive
from contracts.events.envelope import Event
from contracts.runtime.migrations import upgrade
from contracts.runtime.service import CONTEXT
from contracts.testing.clock import TestClock
from contracts.testing.tokens import TestTokens
from invitations import create_app
from invitations.api import Context
from invitations.config import InvitationSettings
from invitations.handlers import handlers
from invitations.issuing import Issuing
from invitations.store import outbox

START = datetime(2026, 3, 2, 9, 15, 4, tzinfo=UTC)


@dataclass
class InvitationsWorld:
    app: Flask
    client: FlaskClient
    tokens: TestTokens
    settings: InvitationSettings
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


W = TypeVar("W", bound=InvitationsWorld)


def build_world(kind: type[W], database_url: str, tmp_path: Path, **env: str) -> W:
    upgrade("invitations", database_url)
    key_file = tmp_path / "invitation-code.key"
    key_file.write_bytes(b"0123456789abcdef" * 4)
    settings = InvitationSettings.from_env(
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
    return kind(app, app.test_client(), tokens, settings, clock, uuid.uuid4())
