"""Issue 3 end to end, on the real bus and databases: a coordinator invites through the
gateway, the candidate receives exactly one email at a real SMTP server, and its code is
the one whose digest the invitations service keeps."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from harness import CODE, Running, run_platform, text_of
from sqlalchemy import func, select

from contracts.bus.tables import OUTBOX
from contracts.runtime.service import CONTEXT
from contracts.testing.bus import wait_until
from invitations.domain import code_digest
from invitations.store import invitations, metadata


@pytest.fixture
def running(
    tmp_path: Path, amqp_url: str, new_postgres_database: Callable[[], str]
) -> Iterator[Running]:
    yield from run_platform(
        tmp_path, amqp_url, lambda _service: new_postgres_database(), ("invitations", "notifier")
    )


def stored_digest(running: Running, invitation_id: object) -> str | None:
    engine = running.platform.apps["invitations"].extensions["nexam.runtime"].engine
    with engine.connect() as db:
        return db.scalar(
            select(invitations.c.code_digest).where(
                invitations.c.id == uuid.UUID(str(invitation_id))
            )
        )


def code_key(running: Running) -> bytes:
    return bytes(running.platform.apps["invitations"].extensions[CONTEXT].issuing.code_key)


def email_status(running: Running, token: str, invitation_id: object) -> str:
    response = running.platform.api("GET", f"/api/v1/invitations/{invitation_id}", token)
    return str(response.json()["email_status"])


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "Invitation to Nexam", "junk"),
        ("fr", "Invitation à Nexam", "indésirables"),
    ],
)
def test_an_invitation_is_one_email_whose_code_is_the_stored_one(
    running: Running, language: str, subject: str, words: str
) -> None:
    token = running.platform.token(uuid.uuid4())
    created = running.platform.invite(token, f"ada.{language}@example.org", language)
    (message,) = running.mail.wait_for(1, to=f"ada.{language}@example.org")
    assert message["Subject"] == subject
    text = text_of(message)
    assert "Mathematics 101 final exam" in text
    assert words in text.lower()
    code = CODE.search(text)
    assert code is not None, text
    assert f"/connexion/code-invitation?code={code.group(0)}" in text
    assert code_digest(code_key(running), code.group(0)) == stored_digest(running, created["id"])
    wait_until(
        lambda: email_status(running, token, created["id"]) == "sent", 30, "email_status sent"
    )
    assert len(running.mail.messages(f"ada.{language}@example.org")) == 1


def test_resend_sends_a_new_code_and_the_old_one_stops_matching(running: Running) -> None:
    token = running.platform.token(uuid.uuid4())
    created = running.platform.invite(token, "grace@example.org")
    first = CODE.search(text_of(running.mail.wait_for(1, to="grace@example.org")[0]))
    resent = running.platform.api("POST", f"/api/v1/invitations/{created['id']}/resend", token)
    assert resent.status_code == 200
    second = CODE.search(text_of(running.mail.wait_for(2, to="grace@example.org")[1]))
    assert first and second and first.group(0) != second.group(0)
    digest = stored_digest(running, created["id"])
    assert digest == code_digest(code_key(running), second.group(0))
    assert digest != code_digest(code_key(running), first.group(0))


def test_revoke_and_the_limits_of_a_coordinator(running: Running) -> None:
    token = running.platform.token(uuid.uuid4())
    created = running.platform.invite(token, "alan@example.org")
    other = running.platform.token(uuid.uuid4())
    assert (
        running.platform.api("GET", f"/api/v1/invitations/{created['id']}", other).status_code
        == 404
    )
    assert (
        running.platform.api(
            "POST", f"/api/v1/invitations/{created['id']}/revoke", other
        ).status_code
        == 404
    )
    assert running.platform.api("GET", "/api/v1/invitations").status_code == 401
    expired = running.platform.token(uuid.uuid4(), lifetime=timedelta(seconds=-60))
    assert running.platform.api("GET", "/api/v1/invitations", expired).status_code == 401
    revoked = running.platform.api("POST", f"/api/v1/invitations/{created['id']}/revoke", token)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert stored_digest(running, created["id"]) is None


def test_a_rejected_address_shows_email_status_failed_with_the_reason(running: Running) -> None:
    running.mail.refused.add("nobody@example.org")
    token = running.platform.token(uuid.uuid4())
    created = running.platform.invite(token, "nobody@example.org")
    wait_until(lambda: email_status(running, token, created["id"]) == "failed", 30, "failed")
    shown = running.platform.api("GET", f"/api/v1/invitations/{created['id']}", token).json()
    assert "550" in shown["email_error"]
    assert running.mail.messages("nobody@example.org") == []


def roster(rows: int, bad_every: int) -> tuple[bytes, list[int]]:
    lines = ["email,first_name,last_name,evaluation_ref,evaluation_name,language"]
    bad = []
    for i in range(rows):
        line_number = i + 2
        if i % bad_every == 7:
            lines.append(f"not-an-address-{i},Bad,Row,MATH101,Mathematics,en")
            bad.append(line_number)
        else:
            language = "fr" if i % 2 else "en"
            lines.append(f"candidate{i}@example.org,Candidate,{i},MATH101,Mathematics,{language}")
    return ("\n".join(lines) + "\n").encode(), bad


def batch_done(running: Running, token: str, batch_id: str) -> dict[str, object]:
    batch: dict[str, object] = {}

    def completed() -> bool:
        batch.update(
            running.platform.api("GET", f"/api/v1/invitations/batches/{batch_id}", token).json()
        )
        return batch["status"] == "completed"

    wait_until(completed, 120, "the batch to complete")
    return batch


def issued_events(running: Running) -> int:
    engine = running.platform.apps["invitations"].extensions["nexam.runtime"].engine
    outbox = metadata.tables[OUTBOX]
    with engine.connect() as db:
        return int(db.scalar(select(func.count()).select_from(outbox)) or 0)


def test_a_1000_row_roster_with_bad_rows_then_the_same_roster_again(running: Running) -> None:
    token = running.platform.token(uuid.uuid4())
    body, bad = roster(1000, 50)
    headers = {"Content-Type": "text/csv"}
    accepted = running.platform.api(
        "POST", "/api/v1/invitations/bulk", token, data=body, headers=headers
    )
    assert accepted.status_code == 202, accepted.text
    result = accepted.json()
    assert [r["row"] for r in result["rejected"]] == bad
    assert all("email" in r["errors"] for r in result["rejected"])
    assert result["accepted"] == 1000 - len(bad)
    batch = batch_done(running, token, result["batch_id"])
    assert batch["issued"] == 1000 - len(bad)
    running.mail.wait_for(1000 - len(bad), timeout=180)

    again = running.platform.api(
        "POST", "/api/v1/invitations/bulk", token, data=body, headers=headers
    )
    assert again.status_code == 202
    second = batch_done(running, token, again.json()["batch_id"])
    assert (second["issued"], second["skipped"]) == (0, 1000 - len(bad))
    assert issued_events(running) == 1000 - len(bad), "the second upload must announce nothing"
    assert len(running.mail.messages()) == 1000 - len(bad)
