"""The events the invitations service consumes, in either order with what the coordinator
does meanwhile, and again: AccountActivated against a resend, a new invitation and the expiry
sweep; EmailDelivered and EmailFailed of one email. What the coordinator sees never depends on
the order."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from invitations_testkit import World

from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.events.examples import load_example
from invitations.jobs import expire_due_invitations

BOTH_ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])


def _in_order(steps: list[Callable[[], object]], reverse: bool) -> None:
    for step in reversed(steps) if reverse else steps:
        step()


def email_outcome(event_type: str, invitation_id: str, source_event_id: str) -> Event:
    body = load_example(event_type)
    body["id"] = str(uuid.uuid4())
    body["data"].update(invitation_id=invitation_id, source_event_id=source_event_id)
    return decode(body)


@BOTH_ORDERS
def test_a_delivered_email_stays_delivered_whatever_outcome_comes_late(
    world: World, reverse: bool
) -> None:
    """Two workers sent one email (a lease ran out): one relay accepted it, the other one
    failed; the candidate has the email either way."""
    created = world.invited()
    (issued,) = world.events("InvitationIssued")
    delivered = email_outcome("EmailDelivered", created["id"], issued["id"])
    failed = email_outcome("EmailFailed", created["id"], issued["id"])

    _in_order([lambda: world.handle(delivered), lambda: world.handle(failed)], reverse)

    got = world.get(created["id"])
    assert (got["email_status"], got["email_error"]) == ("sent", None)


@BOTH_ORDERS
def test_an_activation_and_a_resend_end_activated_in_either_order(
    world: World, reverse: bool
) -> None:
    created = world.invited()
    activated = world.activated(created["email"], created["id"])

    _in_order([lambda: world.resend(created["id"]), lambda: world.handle(activated)], reverse)

    assert world.get(created["id"])["status"] == "activated"
    if reverse:  # activated first: no new code for an account that exists
        assert world.resend(created["id"]) == 409
        assert len(world.announced(created["id"])) == 1


@BOTH_ORDERS
def test_an_invitation_to_another_evaluation_ends_enrolled_in_either_order(
    world: World, reverse: bool
) -> None:
    first = world.invited(ref="MATH101")
    activated = world.activated(first["email"], first["id"])
    second: dict[str, Any] = {}

    _in_order(
        [lambda: second.update(world.invited(ref="PHYS201")), lambda: world.handle(activated)],
        reverse,
    )

    assert world.get(first["id"])["status"] == "activated"
    assert world.get(second["id"])["status"] == "enrolled"
    # the last word to the candidate about it is a sign-in notice, never a code
    assert world.announced(second["id"])[-1]["code"] is None


@BOTH_ORDERS
def test_an_activation_and_the_expiry_sweep_end_activated_in_either_order(
    world: World, reverse: bool
) -> None:
    created = world.invited()
    activated = world.activated(created["email"], created["id"])

    def sweep() -> None:
        world.clock.advance(days=30, seconds=1)
        expire_due_invitations(world.sessions, world.issuing.outbox, world.clock)

    _in_order([sweep, lambda: world.handle(activated)], reverse)

    assert world.get(created["id"])["status"] == "activated"
