"""The invitations' events in any order and delivered again (DESIGN sections 3 and 5): a
retry re-queued at the tail, or two consumers, may hand identity an InvitationIssued after the
revoke, the expiry or the resend that followed it. What a candidate sees never depends on that
order: a revoked or expired code stays dead, a resent code works and the old one never does."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

import pytest
from identity_testkit import INVALID_CODE, PASSWORD, START, IdentityWorld

from contracts.events.envelope import Event

T0 = START - timedelta(days=2)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)

THREE = ("issue", "expire", "resend")


def _named(order: tuple[int, ...]) -> str:
    return "-".join(THREE[i] for i in order)


BOTH_ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])


def _handle(world: IdentityWorld, events: list[Event], reverse: bool) -> None:
    for event in reversed(events) if reverse else events:
        world.handle(event)


def _refused(world: IdentityWorld, code: str) -> None:
    answer = world.redeem(code)
    assert (answer.status_code, answer.json) == (404, INVALID_CODE)


@BOTH_ORDERS
@pytest.mark.parametrize("closing", ["InvitationRevoked", "CodeExpired"])
def test_a_closed_code_stays_dead_whichever_event_comes_first(
    world: IdentityWorld, closing: str, reverse: bool
) -> None:
    invitation = world.new_invitation()
    events = [world.issued(invitation, at=T0), world.closed(invitation, closing, at=T1)]

    _handle(world, events, reverse)

    _refused(world, invitation.code)


@BOTH_ORDERS
def test_a_resent_code_works_and_the_old_one_never_does(
    world: IdentityWorld, reverse: bool
) -> None:
    first = world.new_invitation()
    second = world.resent(first)
    events = [world.issued(first, at=T0), world.issued(second, at=T1)]

    _handle(world, events, reverse)

    _refused(world, first.code)
    assert world.redeem(second.code).status_code == 200


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=_named)
def test_an_expiry_before_the_resend_never_kills_the_fresh_code(
    world: IdentityWorld, order: tuple[int, ...]
) -> None:
    """Expired, then resent (a new code for 30 days): the CodeExpired of the first code may
    arrive last and must not end the second."""
    first = world.new_invitation()
    second = world.resent(first)
    events = [
        world.issued(first, at=T0),
        world.closed(first, "CodeExpired", at=T1),
        world.issued(second, at=T2),
    ]

    _handle(world, [events[i] for i in order], reverse=False)

    _refused(world, first.code)
    assert world.redeem(second.code).status_code == 200


@BOTH_ORDERS
def test_a_revoke_after_the_resend_ends_both_codes(world: IdentityWorld, reverse: bool) -> None:
    first = world.new_invitation()
    second = world.resent(first)
    world.handle(world.issued(first, at=T0))
    events = [world.issued(second, at=T1), world.closed(first, "InvitationRevoked", at=T2)]

    _handle(world, events, reverse)

    _refused(world, first.code)
    _refused(world, second.code)


def test_the_same_invitation_handled_again_changes_nothing(world: IdentityWorld) -> None:
    """Redelivered past the inbox (the handler run twice): the half-done activation and its
    activation token keep working."""
    invitation = world.new_invitation()
    issued = world.issued(invitation, at=T0)
    world.handle(issued)
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200

    world.handle(issued)

    assert world.client.get("/api/v1/activation", headers=world.bearer(token)).status_code == 200
    assert world.redeem(invitation.code).status_code == 200


def test_a_closing_event_handled_again_changes_nothing(world: IdentityWorld) -> None:
    first = world.new_invitation()
    second = world.resent(first)
    expired = world.closed(first, "CodeExpired", at=T1)
    for event in (world.issued(first, at=T0), expired, world.issued(second, at=T2), expired):
        world.handle(event)

    _refused(world, first.code)
    assert world.redeem(second.code).status_code == 200


def test_a_late_resend_does_not_reopen_a_completed_activation(world: IdentityWorld) -> None:
    """Resent while the candidate was finishing with the first code: the account is active,
    neither code opens anything, and sign-in works as usual."""
    first = world.new_invitation()
    world.handle(world.issued(first, at=T0))
    world.activate(first)

    second = world.resent(first)
    world.handle(world.issued(second, at=T1))

    _refused(world, first.code)
    _refused(world, second.code)
    assert world.account(first.email).status == "active"
    assert world.sign_in(first.email, PASSWORD).status_code == 200
