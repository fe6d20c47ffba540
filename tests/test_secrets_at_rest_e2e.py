"""Secrets at rest, end to end (DESIGN section 5): the platform on SQLite and the filesystem
bus, all under one folder; a candidate is invited, activates, signs in and asks for a reset
link. Once every event is acked and every email delivered, no file under that folder
(databases with their -wal and -journal files, the bus folder, the keys) holds the
invitation code, a one-time code or the reset token in any form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import CODE, Running, run_platform, text_of
from journey import activate, new_email, one_time_codes, sign_in
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from contracts.bus.tables import outbox_table
from contracts.events.codes import normalise_code
from contracts.testing.bus import wait_until
from contracts.testing.leaks import files_holding, forms_of

SERVICES = ("identity", "invitations", "notifier")
RESET_TOKEN = re.compile(r"reset-password\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    yield from run_platform(
        tmp_path,
        f"filesystem://{tmp_path / 'bus'}",
        lambda service: f"sqlite:///{tmp_path / f'{service}.db'}",
        SERVICES,
    )


def settled(folder: Path) -> bool:
    """Every outbox row acked by the broker, and no email waiting to be sent."""
    outbox = outbox_table(MetaData())
    for service in SERVICES:
        engine = create_engine(f"sqlite:///{folder / f'{service}.db'}", poolclass=NullPool)
        with engine.connect() as db:
            unsent = db.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
            queued = (
                db.scalar(text("SELECT count(*) FROM outgoing_email WHERE status = 'queued'"))
                if service == "notifier"
                else 0
            )
        engine.dispose()
        if unsent or queued:
            return False
    return True


def one_time_code_forms(code: str) -> set[bytes]:
    """A six-digit code would match by chance in a database file: it is looked for where it
    would stand in an event (JSON) or in the email (alone on its line, or in an element)."""
    return {
        f'"code": "{code}"'.encode(),
        f'"code":"{code}"'.encode(),
        f"\n    {code}".encode(),
        f">{code}<".encode(),
    }


def test_no_file_keeps_a_secret_once_events_are_acked(running: Running, tmp_path: Path) -> None:
    platform = running.platform
    coordinator = platform.token(uuid.uuid4())
    email = new_email()
    activate(running, coordinator, email)
    sign_in(running, email)
    known = len(running.mail.messages(email))
    answer = platform.api("POST", "/api/v1/password/forgot", json={"email": email})
    assert answer.status_code == 202, answer.text
    reset_email = running.mail.wait_for(known + 1, to=email)[known]
    found = RESET_TOKEN.search(text_of(reset_email))
    assert found is not None, "no reset link in the email"
    reset_token = found.group(1)
    invitation = CODE.search(text_of(running.mail.messages(email)[0]))
    assert invitation is not None
    codes = one_time_codes(running, email)
    assert len(codes) == 2, "one code to activate, one to sign in"
    wait_until(lambda: settled(tmp_path), 60, "every event acked and every email sent")

    needles = forms_of(invitation.group(0)) | forms_of(str(normalise_code(invitation.group(0))))
    needles |= forms_of(reset_token)
    needles |= {form for code in codes for form in one_time_code_forms(code)}
    leaks = files_holding(tmp_path, needles)
    assert leaks == [], "\n".join(f"{file}: {needle!r}" for file, needle in leaks)
