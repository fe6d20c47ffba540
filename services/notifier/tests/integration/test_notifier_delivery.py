"""Emails from event to SMTP server, on SQLite and PostgreSQL: a real SMTP server (aiosmtpd on
an ephemeral port) that the test starts, stops and makes refuse; a clock the test moves past
the backoff instead of sleeping."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notifier_testkit import (
    FakeSender,
    Notifier,
    SmtpServer,
    clock_at_now,
    event,
    free_port,
    invitation,
    notifier_settings,
    smtp_server,
)

from contracts.events.codec import decode
from contracts.testing.clock import TestClock
from notifier.delivery import deliver_due
from notifier.domain import REDACTED
from notifier.sender import SmtpSender

CODE = "7KQ2-M9XD-4PRT-WZ3H"


@pytest.fixture
def clock() -> TestClock:
    return clock_at_now()


@pytest.fixture
def notifier(
    tmp_path: Path, database_url: str, smtp: SmtpServer, clock: TestClock
) -> Iterator[Notifier]:
    service = Notifier(notifier_settings(tmp_path, database_url, smtp.port), clock)
    yield service
    service.close()


#: the headers of every email, each once
HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "Content-Language", "Auto-Submitted",
)  # fmt: skip


def no_secret_anywhere(row: dict[str, Any], *secrets: str) -> bool:
    stored = " ".join(str(value) for value in row.values())
    return not any(secret in stored for secret in secrets)


def test_an_invitation_becomes_one_email_in_the_candidates_language(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    issued = invitation(language="fr", email="helene.dupont@example.org", first_name="Hélène")
    notifier.handle(issued)
    sender = notifier.smtp_sender()

    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert report.delivered == 1
    (received,) = smtp.received
    message = received.message
    assert received.rcpt_tos == ("helene.dupont@example.org",)
    assert received.mail_from == "no-reply@nexam.test"
    assert message["Subject"] == "Invitation à Nexam"
    assert message["Message-ID"] == f"<{issued.id}@nexam.test>"
    assert message["To"] == "Hélène Lovelace <helene.dupont@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text, html = received.part("plain"), received.part("html")
    assert text.startswith("Bonjour Hélène,")
    assert CODE in text
    assert f"https://exams.example.org/connexion/code-invitation?code={CODE}" in text
    assert "courriels indésirables" in text
    assert CODE in html and '<html lang="fr">' in html

    row = notifier.row_for(issued)
    assert row["status"] == "delivered" and row["attempts"] == 1
    assert row["mime"] is None
    assert no_secret_anywhere(row, CODE)
    assert REDACTED in row["redacted_text"]

    (delivered,) = notifier.published("EmailDelivered")
    assert delivered["data"]["source_event_id"] == str(issued.id)
    assert delivered["data"]["invitation_id"] == str(issued.data["invitation_id"])
    assert delivered["data"]["message_id"] == f"<{issued.id}@nexam.test>"
    assert delivered["data"]["recipient"] == "helene.dupont@example.org"
    assert delivered["correlation_id"] == issued.correlation_id
    assert decode(delivered).type == "EmailDelivered"  # valid against its contract
    assert CODE not in str(notifier.published())


def test_a_line_break_in_a_name_adds_no_header_and_no_recipient(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    # the contracts refuse such a name; this event skips them, as a bug upstream might
    issued = invitation(
        email="ada@example.org",
        first_name="Ada\r\nBcc: evil@example.com",
        last_name="Lovelace\nSubject: Your account is suspended",
        evaluation="Maths\u2028Cc: other@example.com",
    )
    notifier.handle(issued)
    sender = notifier.smtp_sender()

    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert report.delivered == 1
    (received,) = smtp.received
    assert received.rcpt_tos == ("ada@example.org",)
    message = received.message
    assert message["Bcc"] is None and message["Cc"] is None
    assert message.get_all("Subject") == ["Invitation to Nexam"]
    assert [a.addr_spec for a in message["To"].addresses] == ["ada@example.org"]
    assert message["To"].addresses[0].display_name == (
        "Ada Bcc: evil@example.com Lovelace Subject: Your account is suspended"
    )
    assert sorted(message.keys()) == sorted(HEADERS)


def test_a_redelivered_event_makes_one_email(notifier: Notifier, smtp: SmtpServer) -> None:
    issued = invitation()
    notifier.handle(issued)
    sender = notifier.smtp_sender()
    deliver_due(notifier.delivery(sender))

    notifier.handle(issued)  # the broker delivers it again, after the email went out
    deliver_due(notifier.delivery(sender))
    sender.close()

    assert [r.message["Message-ID"] for r in smtp.received] == [f"<{issued.id}@nexam.test>"]
    assert len(notifier.rows()) == 1
    assert len(notifier.published("EmailDelivered")) == 1


def test_the_same_event_queued_twice_before_delivery_still_makes_one_email(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    issued = invitation()

    notifier.handle(issued, issued)
    sender = notifier.smtp_sender()
    deliver_due(notifier.delivery(sender))
    sender.close()

    assert len(smtp.received) == 1


def test_every_kind_of_email_goes_out_and_no_secret_stays(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    events = [
        invitation(),
        invitation(code=None, email="grace.hopper@example.org"),
        event("TwoFactorCodeRequested", code="482913"),
        event("PasswordResetRequested"),
        event("PasswordChanged"),
        event("AccountActivated"),
        event("CopySubmitted"),
    ]
    notifier.handle(*events)
    sender = notifier.smtp_sender()

    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert report.delivered == len(events) == len(smtp.received)
    assert {r.message["Message-ID"] for r in smtp.received} == {
        f"<{e.id}@nexam.test>" for e in events
    }
    secrets = (CODE, "482913", "vG7pQ2xK9mRt4ZcW8nLb3HsY6fJd1AeU")
    assert all(no_secret_anywhere(row, *secrets) for row in notifier.rows())
    invitation_ids = {
        p["data"]["source_event_id"]: p["data"]["invitation_id"]
        for p in notifier.published("EmailDelivered")
    }
    assert invitation_ids == {
        str(e.id): str(e.data["invitation_id"]) if e.type == "InvitationIssued" else None
        for e in events
    }


def test_one_smtp_session_carries_a_whole_roster(notifier: Notifier, smtp: SmtpServer) -> None:
    roster = [invitation(email=f"candidate{n}@example.org") for n in range(120)]
    notifier.handle(*roster)
    sender = notifier.smtp_sender()

    report = deliver_due(notifier.delivery(sender, batch_size=25))
    sender.close()

    assert report.delivered == 120
    assert len(smtp.received) == 120
    assert smtp.sessions == 1
    assert len(notifier.published("EmailDelivered")) == 120


def test_a_roster_is_shared_among_as_many_sessions_as_the_relay_allows(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    roster = [invitation(email=f"candidate{n}@example.org") for n in range(120)]
    notifier.handle(*roster)
    senders = [notifier.smtp_sender() for _ in range(3)]

    report = deliver_due(notifier.delivery(*senders, batch_size=60))
    for sender in senders:
        sender.close()

    assert report.delivered == 120
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(
        f"candidate{n}@example.org" for n in range(120)
    )
    assert smtp.sessions == 3  # each kept from the first batch to the second
    assert len(notifier.published("EmailDelivered")) == 120


def test_one_code_goes_out_on_the_first_session_without_opening_others(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    notifier.handle(invitation())
    senders = [notifier.smtp_sender() for _ in range(3)]

    report = deliver_due(notifier.delivery(*senders))
    for sender in senders:
        sender.close()

    assert report.delivered == 1
    assert smtp.sessions == 1


def test_a_relay_that_closed_the_kept_session_is_reconnected_without_a_failure(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    first, second = invitation(), invitation(email="grace.hopper@example.org")
    sender = notifier.smtp_sender()
    notifier.handle(first)
    deliver_due(notifier.delivery(sender))

    smtp.stop()  # the relay drops the idle session (restarted, or its idle timeout)
    smtp.start()
    notifier.handle(second)
    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert report.delivered == 1 and report.retried == 0
    assert len(smtp.received) == 2
    assert notifier.row_for(second)["last_error"] is None


def test_codes_people_wait_for_go_before_a_roster(notifier: Notifier, clock: TestClock) -> None:
    roster = [invitation(email=f"candidate{n}@example.org") for n in range(30)]
    notifier.handle(*roster)
    clock.advance(seconds=1)
    notifier.handle(event("TwoFactorCodeRequested", email="waiting@example.org"))
    sender = FakeSender()

    deliver_due(notifier.delivery(sender, batch_size=10))

    assert sender.recipients[0] == "waiting@example.org"
    assert len(sender.recipients) == 31


def test_the_relay_down_for_a_while_then_up_delivers_every_email_once(
    tmp_path: Path, database_url: str, clock: TestClock
) -> None:
    port = free_port()  # nothing listens there yet
    notifier = Notifier(notifier_settings(tmp_path, database_url, port), clock)
    events = [invitation(email=f"candidate{n}@example.org") for n in range(5)]
    notifier.handle(*events)
    sender = notifier.smtp_sender()
    delivery = notifier.delivery(sender)
    try:
        first = deliver_due(delivery)

        assert first.retried == 5 and first.delivered == 0
        rows = notifier.rows()
        assert all(r["status"] == "queued" and r["attempts"] == 1 for r in rows)
        assert all("Connection refused" in r["last_error"] for r in rows)
        assert notifier.published() == []

        clock.advance(seconds=29)
        assert deliver_due(delivery).handled == 0  # not due before the backoff

        clock.advance(seconds=2)
        assert deliver_due(delivery).retried == 5  # still down: the next wait doubles
        assert {r["attempts"] for r in notifier.rows()} == {2}

        with smtp_server(port) as smtp:
            clock.advance(seconds=59)
            assert deliver_due(delivery).handled == 0
            clock.advance(seconds=2)
            last = deliver_due(delivery)
            assert deliver_due(delivery).handled == 0
            sender.close()

        assert last.delivered == 5
        ids = sorted(r.message["Message-ID"] for r in smtp.received)
        assert ids == sorted(f"<{e.id}@nexam.test>" for e in events)
        assert all(r["status"] == "delivered" and r["attempts"] == 3 for r in notifier.rows())
        assert len(notifier.published("EmailDelivered")) == 5
        assert notifier.published("EmailFailed") == []
    finally:
        sender.close()
        notifier.close()


def test_a_recipient_refused_with_550_fails_at_once_with_the_reason(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    smtp.reject("grace.hopper@example.org")
    refused = invitation(email="grace.hopper@example.org")
    accepted = invitation(email="ada.lovelace@example.org")
    notifier.handle(refused, accepted)
    sender = notifier.smtp_sender()

    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert (report.delivered, report.failed, report.retried) == (1, 1, 0)
    assert [r.rcpt_tos for r in smtp.received] == [("ada.lovelace@example.org",)]
    row = notifier.row_for(refused)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"].startswith("550 5.1.1 <grace.hopper@example.org>")
    assert row["mime"] is None and no_secret_anywhere(row, CODE)
    (failed,) = notifier.published("EmailFailed")
    assert failed["data"]["permanent"] is True
    assert "550 5.1.1" in failed["data"]["reason"]
    assert "Recipient address rejected" in failed["data"]["reason"]
    assert failed["data"]["invitation_id"] == str(refused.data["invitation_id"])
    assert failed["data"]["source_event_id"] == str(refused.id)
    assert decode(failed).type == "EmailFailed"


def test_a_4xx_answer_is_retried_after_the_backoff(
    notifier: Notifier, smtp: SmtpServer, clock: TestClock
) -> None:
    smtp.defer("ada.lovelace@example.org")
    issued = invitation()
    notifier.handle(issued)
    sender = notifier.smtp_sender()
    delivery = notifier.delivery(sender)

    assert deliver_due(delivery).retried == 1
    assert notifier.row_for(issued)["last_error"].startswith("451 4.7.1 Greylisted")

    smtp.accept("ada.lovelace@example.org")
    clock.advance(seconds=30)
    assert deliver_due(delivery).delivered == 1
    sender.close()

    assert len(smtp.received) == 1
    assert notifier.row_for(issued)["status"] == "delivered"


def test_retries_give_up_after_the_window_with_a_temporary_failure(
    notifier: Notifier, clock: TestClock
) -> None:
    issued = invitation()
    notifier.handle(issued)
    sender = FakeSender()
    sender.fail_with["ada.lovelace@example.org"] = lambda: ConnectionRefusedError(
        111, "Connection refused"
    )
    delivery = notifier.delivery(sender)

    assert deliver_due(delivery).retried == 1
    clock.advance(hours=1, minutes=59)
    assert deliver_due(delivery).retried == 1
    assert notifier.published() == []

    clock.advance(minutes=10)
    report = deliver_due(delivery)

    assert report.failed == 1
    row = notifier.row_for(issued)
    assert row["status"] == "failed" and row["attempts"] == 3
    assert row["mime"] is None and no_secret_anywhere(row, CODE)
    (failed,) = notifier.published("EmailFailed")
    assert failed["data"]["permanent"] is False
    assert failed["data"]["reason"].startswith("gave up after 3 attempts; last: ")
    assert "Connection refused" in failed["data"]["reason"]
    assert failed["data"]["invitation_id"] == str(issued.data["invitation_id"])
    clock.advance(hours=1)
    assert deliver_due(delivery).handled == 0


def test_a_relay_down_holds_back_the_rest_of_the_batch_without_trying_each(
    notifier: Notifier,
) -> None:
    notifier.handle(*[invitation(email=f"c{n}@example.org") for n in range(10)])
    tried: list[str] = []

    class DownRelay(FakeSender):
        def send(self, mail: Any) -> None:
            tried.append(mail.recipient)
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    report = deliver_due(notifier.delivery(DownRelay(), batch_size=4))

    assert len(tried) == 1
    assert report.retried == 4  # the batch waits; the other six are left for the next round
    assert sum(r["attempts"] for r in notifier.rows()) == 4


def test_two_workers_never_send_the_same_email(notifier: Notifier) -> None:
    notifier.handle(*[invitation(email=f"candidate{n}@example.org") for n in range(200)])
    senders = [FakeSender(), FakeSender()]
    start = threading.Barrier(2)

    def work(sender: FakeSender) -> None:
        start.wait()
        deliver_due(notifier.delivery(sender, batch_size=10))

    threads = [threading.Thread(target=work, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    sent = senders[0].recipients + senders[1].recipients
    assert len(sent) == 200 == len(set(sent))
    assert len(notifier.published("EmailDelivered")) == 200


def test_a_round_told_to_stop_gives_back_what_it_claimed_ahead(notifier: Notifier) -> None:
    notifier.handle(*[invitation(email=f"candidate{n}@example.org") for n in range(30)])
    sender = FakeSender()

    report = deliver_due(
        notifier.delivery(sender, batch_size=10), should_stop=lambda: len(sender.sent) >= 10
    )

    assert report.delivered == 10
    assert all(r["claimed_until"] is None for r in notifier.rows() if r["status"] == "queued")
    assert deliver_due(notifier.delivery(sender, batch_size=10)).delivered == 20
    assert len(set(sender.recipients)) == 30


def test_a_session_left_idle_is_checked_with_noop_and_replaced_if_dead(
    notifier: Notifier, smtp: SmtpServer
) -> None:
    now = [0.0]
    sender = SmtpSender(notifier.settings.smtp, check_after=5.0, monotonic=lambda: now[0])
    notifier.handle(invitation())
    deliver_due(notifier.delivery(sender))

    now[0] += 60  # idle, but the relay kept the session: NOOP says so, it is reused
    notifier.handle(invitation(email="grace.hopper@example.org"))
    deliver_due(notifier.delivery(sender))
    assert smtp.sessions == 1

    smtp.stop()  # the relay restarts: the kept session is dead
    smtp.start()
    now[0] += 60
    notifier.handle(invitation(email="alan.turing@example.org"))
    report = deliver_due(notifier.delivery(sender))
    sender.close()

    assert report.delivered == 1 and report.retried == 0
    assert len(smtp.received) == 3
    assert smtp.sessions == 2


def test_a_relay_refusing_the_session_itself_is_a_temporary_failure(
    tmp_path: Path, database_url: str, smtp: SmtpServer, clock: TestClock
) -> None:
    # STARTTLS is required by the settings, and this relay does not offer it
    settings = notifier_settings(tmp_path, database_url, smtp.port, SMTP_STARTTLS="1")
    notifier = Notifier(settings, clock)
    try:
        issued = invitation()
        notifier.handle(issued)
        sender = notifier.smtp_sender()

        report = deliver_due(notifier.delivery(sender))
        sender.close()

        assert report.retried == 1 and smtp.received == []
        row = notifier.row_for(issued)
        assert row["status"] == "queued"
        assert row["last_error"].startswith(f"mail relay 127.0.0.1:{smtp.port} unavailable")
        assert "STARTTLS" in row["last_error"]
    finally:
        notifier.close()
