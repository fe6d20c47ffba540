"""An invitation's events in any order (DESIGN sections 3 and 5): a late InvitationIssued, after
the revoke, the expiry, the resend or the activation that followed it, must not email a dead
code; an email still queued when its code dies is not sent, and says so with EmailFailed. On
SQLite and PostgreSQL, with a fake sender: what matters is which emails go out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from itertools import permutations
from pathlib import Path

import pytest
from notifier_testkit import (
    FakeSender,
    Notifier,
    event,
    invitation,
    notifier_settings,
)

from contracts.bus import HandleMany
from contracts.events.envelope import Event
from contracts.testing.clock import TestClock
from notifier.delivery import deliver_due

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
RESENT_CODE = "M9XD-4PRT-WZ3H-7KQ2"

THREE = ("issue", "expire", "resend")


def _named(order: tuple[int, ...]) -> str:
    return "-".join(THREE[i] for i in order)


BOTH_ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])


@pytest.fixture
def notifier(tmp_path: Path, database_url: str) -> Iterator[Notifier]:
    service = Notifier(notifier_settings(tmp_path, database_url, 25), TestClock(T2))
    yield service
    service.close()


def at(source: Event, moment: datetime) -> Event:
    return dataclasses.replace(source, occurred_at=moment)


def resent(first: Event, moment: datetime) -> Event:
    """The resend of ``first``: the same invitation, a new event and a new code."""
    again = at(event("InvitationIssued"), moment)
    return dataclasses.replace(again, data=first.data | {"code": RESENT_CODE, "resent": True})


def closed(first: Event, event_type: str, moment: datetime) -> Event:
    data = {"invitation_id": first.data["invitation_id"], "email": first.data["email"]}
    return at(event(event_type, **data), moment)


def activated(first: Event, moment: datetime) -> Event:
    data = {"invitation_id": first.data["invitation_id"], "email": first.data["email"]}
    return at(event("AccountActivated", **data), moment)


def sent_for(notifier: Notifier, **events: Event) -> list[str]:
    """Deliver what is due; the names of the ``events`` whose email was sent."""
    sender = FakeSender()
    deliver_due(notifier.delivery(sender))
    ids = {message_from_bytes(mail.message)["Message-ID"] for mail in sender.sent}
    return [name for name, e in events.items() if f"<{e.id}@nexam.test>" in ids]


def not_sent(notifier: Notifier, source: Event) -> str:
    """The reason of the EmailFailed that says ``source``'s email was not sent."""
    (failed,) = [
        f
        for f in notifier.published("EmailFailed")
        if f["data"]["source_event_id"] == str(source.id)
    ]
    assert failed["data"]["permanent"] is True
    assert failed["data"]["invitation_id"] == str(source.data["invitation_id"])
    reason: str = failed["data"]["reason"]
    return reason


def handle(notifier: Notifier, events: list[Event], reverse: bool) -> None:
    notifier.handle(*(reversed(events) if reverse else events))


@BOTH_ORDERS
@pytest.mark.parametrize("closing", ["InvitationRevoked", "CodeExpired"])
def test_a_closed_invitation_emails_no_code_whichever_event_comes_first(
    notifier: Notifier, closing: str, reverse: bool
) -> None:
    issued = at(invitation(), T0)

    handle(notifier, [issued, closed(issued, closing, T1)], reverse)

    assert sent_for(notifier, issued=issued) == []
    if not reverse:  # it was queued, and then its code died
        assert not_sent(notifier, issued).startswith("not sent:")


@BOTH_ORDERS
def test_only_the_resent_code_is_emailed_whichever_comes_first(
    notifier: Notifier, reverse: bool
) -> None:
    first = at(invitation(), T0)
    second = resent(first, T1)

    handle(notifier, [first, second], reverse)

    assert sent_for(notifier, first=first, second=second) == ["second"]


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=_named)
def test_an_expiry_before_the_resend_never_stops_the_fresh_code(
    notifier: Notifier, order: tuple[int, ...]
) -> None:
    first = at(invitation(), T0)
    second = resent(first, T2)
    events = [first, closed(first, "CodeExpired", T1), second]

    notifier.handle(*(events[i] for i in order))

    assert sent_for(notifier, first=first, second=second) == ["second"]


@BOTH_ORDERS
def test_a_code_resent_just_before_the_activation_is_not_emailed(
    notifier: Notifier, reverse: bool
) -> None:
    """The candidate finished with the first code while the coordinator resent it."""
    first = at(invitation(), T0)
    notifier.handle(first)
    assert sent_for(notifier, first=first) == ["first"]
    second = resent(first, T1)
    done = activated(first, T2)

    handle(notifier, [second, done], reverse)

    assert sent_for(notifier, second=second, done=done) == ["done"]


@BOTH_ORDERS
def test_one_batch_with_the_issue_and_the_resend_emails_only_the_resend(
    notifier: Notifier, reverse: bool
) -> None:
    first = at(invitation(), T0)
    second = resent(first, T1)
    handler = notifier.handlers["InvitationIssued"]
    assert isinstance(handler, HandleMany)

    with notifier.sessions() as session, session.begin():
        handler.handle(session, [second, first] if reverse else [first, second])

    assert sent_for(notifier, first=first, second=second) == ["second"]


def test_events_handled_again_change_nothing(notifier: Notifier) -> None:
    first = at(invitation(), T0)
    second = resent(first, T2)
    expired = closed(first, "CodeExpired", T1)

    notifier.handle(first, expired, second, expired, first, second)

    assert sent_for(notifier, first=first, second=second) == ["second"]
    assert len(notifier.published("EmailFailed")) == 1  # the first, once


def test_other_invitations_are_not_touched(notifier: Notifier) -> None:
    ada = at(invitation(), T0)
    grace = at(invitation(email="grace@example.org"), T0)

    notifier.handle(ada, grace, closed(ada, "InvitationRevoked", T1))

    assert sent_for(notifier, ada=ada, grace=grace) == ["grace"]
