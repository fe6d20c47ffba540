"""The message waiting in ``outgoing_email`` holds the code or the reset link: it is kept
sealed, opened only to be sent, and forgotten once delivered (DESIGN section 5), on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notifier_testkit import Notifier, SmtpServer, clock_at_now, event, notifier_settings

from contracts.events.codes import new_code
from contracts.testing.leaks import forms_of
from notifier.delivery import deliver_due

RESET_TOKEN = "Vq3xD0c8Hk2mP4wL9sT1yB6nR5eJ7aZ0uF3gC8hK2mQ"


@pytest.fixture
def notifier(tmp_path: Path, database_url: str, smtp: SmtpServer) -> Iterator[Notifier]:
    service = Notifier(notifier_settings(tmp_path, database_url, smtp.port), clock_at_now())
    yield service
    service.close()


def holds(value: object, secret: str) -> bool:
    raw = value if isinstance(value, bytes) else str(value).encode()
    return any(form in raw for form in forms_of(secret))


def test_the_waiting_message_is_sealed_and_the_sent_one_is_in_clear(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    code = new_code()
    issued = event("InvitationIssued", code=code)
    reset = event(
        "PasswordResetRequested",
        reset_url=f"https://exams.example.org/connexion/reset-password?token={RESET_TOKEN}",
    )
    one_time = event("TwoFactorCodeRequested", code="480213")
    notifier.handle(issued, reset, one_time)

    rows = notifier.rows()
    assert len(rows) == 3
    for row in rows:
        assert row["mime"], "the message waits in the row"
        assert not holds(row["mime"], code) and not holds(row["mime"], RESET_TOKEN)
        assert b"480213" not in bytes(row["mime"])

    sender = notifier.smtp_sender()
    assert deliver_due(notifier.delivery(sender)).delivered == 3
    sender.close()

    assert all(row["mime"] is None for row in notifier.rows())
    received = b"\n".join(message.raw for message in smtp.received)
    assert code.encode() in received and b"480213" in received
    assert holds(received, RESET_TOKEN)
