"""Each pair of events the exams service consumes, in both orders and then delivered again:
what the candidate's dashboard shows never depends on the order."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from exams_testkit import EVALUATION, START, ExamsWorld

from contracts.events.envelope import Event
from contracts.testing.events import example_event

PHYSICS = {"ref": "PHYS200-MIDTERM", "name": "Physics 200"}

BOTH_ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])


def _handle(world: ExamsWorld, events: list[Event], reverse: bool) -> None:
    for event in reversed(events) if reverse else events:
        world.handle(event)
    for event in events:  # each delivered again, as after a lost ack
        world.handle(event)


@BOTH_ORDERS
def test_an_invitation_for_the_account_and_its_activation_enrol_in_either_order(
    world: ExamsWorld, reverse: bool
) -> None:
    world.exam()
    world.put_evaluation(ref=PHYSICS["ref"], name=PHYSICS["name"])
    world.create_exam(
        ref=PHYSICS["ref"], title="Physics midterm", starts_at="2026-06-03T09:00:00+00:00"
    )
    account_id = uuid.uuid4()
    activated = example_event(
        "AccountActivated",
        account_id=account_id,
        email="ada@example.org",
        invitation_id=uuid.uuid4(),
        institution_id=world.institution,
        evaluation=EVALUATION,
        activated_at=START,
    )
    invited = example_event(
        "InvitationIssued",
        invitation_id=uuid.uuid4(),
        institution_id=world.institution,
        email="Ada@Example.org",
        evaluation=PHYSICS,
        account_exists=True,
        code=None,
        expires_at=None,
    )

    _handle(world, [activated, invited], reverse)

    upcoming = world.dashboard(account_id)["upcoming_exams"]
    assert [e["title"] for e in upcoming] == ["Final exam", "Physics midterm"]
    for ref in (EVALUATION["ref"], PHYSICS["ref"]):
        evaluation = world.client.get(f"/api/v1/evaluations/{ref}", headers=world.coordinator())
        assert evaluation.json["enrolled"] == 1


@BOTH_ORDERS
def test_two_device_checks_keep_the_latest_in_either_order(
    world: ExamsWorld, reverse: bool
) -> None:
    account_id = world.activated()
    later = START + timedelta(hours=5)
    checks = [
        example_event(
            "DeviceValidated",
            check_id=uuid.uuid4(),
            account_id=account_id,
            validated_at=at,
            valid_until=at + timedelta(days=2),
        )
        for at in (START, later)
    ]

    _handle(world, checks, reverse)

    assert world.dashboard(account_id)["device"] == {
        "validated": True,
        "validated_at": later.isoformat(),
        "valid_until": (later + timedelta(days=2)).isoformat(),
    }
