"""The notifier's rules, without I/O: which email an event asks for, the retry schedule, and
what an SMTP failure means."""

from __future__ import annotations

import smtplib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notifier_testkit import event, invitation

from notifier.domain import (
    CODE_ENDING_EVENTS,
    EMAIL_EVENTS,
    REDACTED,
    ROUTINE,
    URGENT,
    KnownInvitation,
    Links,
    RelayUnavailable,
    RetryPolicy,
    classify,
    message_id_for,
    plan_email,
)

LINKS = Links("https://exams.example.org")


# -- which email --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("InvitationIssued", "invitation"),
        ("TwoFactorCodeRequested", "two_factor_code"),
        ("PasswordResetRequested", "password_reset"),
        ("PasswordChanged", "password_changed"),
        ("AccountActivated", "account_activated"),
        ("CopySubmitted", "copy_receipt"),
    ],
)
def test_each_event_that_leads_to_email_has_its_template(event_type: str, kind: str) -> None:
    plan = plan_email(event(event_type), LINKS)

    assert plan.kind == kind
    assert plan.recipient == event(event_type).data["email"]


def test_every_subscription_of_the_notifier_leads_to_an_email_or_ends_a_code() -> None:
    from contracts.bus import SUBSCRIPTIONS

    subscribed = {t for t, _v in SUBSCRIPTIONS["notifier"]}
    assert subscribed == set(EMAIL_EVENTS) | set(CODE_ENDING_EVENTS)
    assert not set(EMAIL_EVENTS) & set(CODE_ENDING_EVENTS)


def test_an_event_without_email_is_refused() -> None:
    with pytest.raises(LookupError):
        plan_email(event("CodeExpired"), LINKS)


def test_an_invitation_for_a_new_account_carries_the_code_and_its_link() -> None:
    issued = invitation(code="7KQ2-M9XD-4PRT-WZ3H")

    plan = plan_email(issued, LINKS)

    assert plan.kind == "invitation"
    assert plan.context["code"] == "7KQ2-M9XD-4PRT-WZ3H"
    assert plan.context["link"] == (
        "https://exams.example.org/connexion/code-invitation?code=7KQ2-M9XD-4PRT-WZ3H"
    )
    assert plan.invitation_id == issued.data["invitation_id"]
    assert plan.recipient_name == "Ada Lovelace"
    assert plan.sensitive == {"code", "link"}


def test_an_invitation_for_an_existing_account_is_a_sign_in_notice_without_code() -> None:
    plan = plan_email(invitation(code=None), LINKS)

    assert plan.kind == "invitation_existing_account"
    assert "code" not in plan.context and "link" not in plan.context
    assert plan.context["sign_in_url"] == "https://exams.example.org/connexion"
    assert plan.sensitive == frozenset()


def test_the_code_in_a_link_is_url_encoded() -> None:
    assert LINKS.code_entry_with("AB CD&x=1") == (
        "https://exams.example.org/connexion/code-invitation?code=AB%20CD%26x%3D1"
    )


def test_the_redacted_context_hides_codes_tokens_and_links_made_from_them() -> None:
    plan = plan_email(event("PasswordResetRequested"), LINKS)

    redacted = plan.redacted_context()

    assert redacted["reset_url"] == REDACTED
    assert redacted["first_name"] == plan.context["first_name"]
    assert plan.secrets() == [plan.context["reset_url"]]


def test_codes_and_reset_links_go_before_routine_emails() -> None:
    assert plan_email(event("TwoFactorCodeRequested"), LINKS).priority == URGENT
    assert plan_email(event("PasswordResetRequested"), LINKS).priority == URGENT
    assert plan_email(invitation(), LINKS).priority == ROUTINE
    assert URGENT < ROUTINE


def test_validity_is_taken_from_the_event() -> None:
    requested = event("TwoFactorCodeRequested")
    reset = event("PasswordResetRequested")

    assert plan_email(requested, LINKS).context["valid_minutes"] == 10
    assert plan_email(reset, LINKS).context["valid_minutes"] == 60


def test_the_message_id_is_derived_from_the_source_event() -> None:
    source = uuid.UUID("de017969-9097-4745-a2d4-b74c52c111dc")

    assert message_id_for(source, "nexam.example.org") == (
        "<de017969-9097-4745-a2d4-b74c52c111dc@nexam.example.org>"
    )


# -- retry schedule -----------------------------------------------------------------------------


def test_backoff_doubles_from_30_seconds_up_to_10_minutes() -> None:
    policy = RetryPolicy()

    delays = [policy.delay_after(n).total_seconds() for n in range(1, 10)]

    assert delays == [30, 60, 120, 240, 480, 600, 600, 600, 600]
    assert policy.delay_after(10_000) == timedelta(minutes=10)


def test_retries_cover_at_least_an_hour_and_give_up_after_two() -> None:
    policy = RetryPolicy()
    queued = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)

    elapsed, attempts = timedelta(0), 0
    while not policy.gives_up(queued, queued + elapsed):
        attempts += 1
        elapsed += policy.delay_after(attempts)

    assert not policy.gives_up(queued, queued + timedelta(hours=1, minutes=59))
    assert policy.gives_up(queued, queued + timedelta(hours=2))
    assert elapsed >= timedelta(hours=2)
    assert attempts == 16  # 30+60+120+240+480 s, then every 10 minutes


# -- what a failure means -----------------------------------------------------------------------


def test_a_5xx_refusal_of_the_recipient_is_permanent_with_the_servers_words() -> None:
    refused = smtplib.SMTPRecipientsRefused(
        {"grace@example.org": (550, b"5.1.1 <grace@example.org>: User unknown")}
    )

    failure = classify(refused)

    assert failure.permanent
    assert not failure.relay_down
    assert failure.reason == "550 5.1.1 <grace@example.org>: User unknown"


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"4.2.0 Mailbox busy")}),
        smtplib.SMTPDataError(451, b"4.3.0 Local error in processing"),
        smtplib.SMTPSenderRefused(421, b"4.7.0 Try again later", "no-reply@nexam.test"),
    ],
)
def test_a_4xx_answer_is_temporary(error: Exception) -> None:
    failure = classify(error)

    assert not failure.permanent
    assert failure.reason.startswith("4")


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"),
        smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "no-reply@nexam.test"),
    ],
)
def test_a_5xx_answer_is_permanent(error: Exception) -> None:
    failure = classify(error)

    assert failure.permanent
    assert failure.reason.startswith("5")


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        TimeoutError("timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPConnectError(554, b"No service for you"),
        smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid"),
        RelayUnavailable("mail relay 127.0.0.1:25 unavailable: connection refused"),
    ],
)
def test_trouble_reaching_the_relay_is_temporary_and_holds_back_the_batch(
    error: Exception,
) -> None:
    failure = classify(error)

    assert not failure.permanent
    assert failure.relay_down
    assert failure.reason


def test_connection_refused_says_so() -> None:
    assert (
        "Connection refused" in classify(ConnectionRefusedError(111, "Connection refused")).reason
    )


def test_an_address_the_relay_cannot_carry_is_permanent() -> None:
    failure = classify(smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server"))

    assert failure.permanent
    assert not failure.relay_down


# -- the order of an invitation's events --------------------------------------------------------


def test_only_the_latest_code_of_an_invitation_is_emailed_in_any_order() -> None:
    first, expired, resent = (datetime(2026, 3, 2, hour, tzinfo=UTC) for hour in (9, 10, 11))
    for known in (
        KnownInvitation().issued(first).closed(expired).issued(resent),
        KnownInvitation().issued(resent).closed(expired).issued(first),
        KnownInvitation().closed(expired).issued(resent).issued(first),
    ):
        assert (known.emails(first), known.emails(resent)) == (False, True)
        assert known.ends_latest_code(expired) is False


def test_a_code_ended_at_the_moment_it_was_issued_stays_dead() -> None:
    moment = datetime(2026, 3, 2, 9, tzinfo=UTC)
    known = KnownInvitation().issued(moment).closed(moment)

    assert known.emails(moment) is False
    assert known.ends_latest_code(moment) is True
