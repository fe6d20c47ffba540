"""Enrolment from other services' events, fed through the service's own handlers in either
order: AccountActivated, InvitationIssued for an existing account, DeviceValidated."""

from __future__ import annotations

import uuid
from datetime import timedelta

from exams_testkit import EVALUATION, EXAM_AT, START, ExamsWorld

from contracts.testing.events import example_event

PHYSICS = {"ref": "PHYS200-MIDTERM", "name": "Physics 200"}


def upcoming_titles(world: ExamsWorld, account_id: uuid.UUID) -> list[str]:
    return [e["title"] for e in world.dashboard(account_id)["upcoming_exams"]]


def test_activation_enrols_before_the_coordinator_creates_the_evaluation(
    world: ExamsWorld,
) -> None:
    account_id = world.activated(evaluation={"ref": EVALUATION["ref"], "name": "From invite"})

    renamed = world.put_evaluation(name="Mathematics 101")
    world.create_exam(title="Final exam")

    assert renamed.status_code == 200  # it already existed, made by the enrolment
    assert renamed.json["enrolled"] == 1
    assert upcoming_titles(world, account_id) == ["Final exam"]


def test_an_event_does_not_rename_the_coordinators_evaluation(world: ExamsWorld) -> None:
    world.put_evaluation(name="Mathematics 101 (official)")

    world.activated(evaluation={"ref": EVALUATION["ref"], "name": "Maths"})

    evaluation = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert evaluation.json["name"] == "Mathematics 101 (official)"


def test_an_existing_account_is_enrolled_at_once_by_its_invitation(world: ExamsWorld) -> None:
    account_id = world.activated(evaluation=EVALUATION)
    world.exam()
    world.put_evaluation(ref=PHYSICS["ref"], name=PHYSICS["name"])
    world.create_exam(
        ref=PHYSICS["ref"], title="Physics midterm", starts_at="2026-06-03T09:00:00+00:00"
    )
    assert upcoming_titles(world, account_id) == ["Final exam"]

    world.invited_existing(evaluation=PHYSICS)

    assert upcoming_titles(world, account_id) == ["Final exam", "Physics midterm"]


def test_an_invitation_that_arrives_first_waits_for_the_account(world: ExamsWorld) -> None:
    world.put_evaluation(ref=PHYSICS["ref"], name=PHYSICS["name"])
    world.create_exam(ref=PHYSICS["ref"], title="Physics midterm")
    world.invited_existing("Ada@Example.org", evaluation=PHYSICS)

    account_id = world.activated("ada@example.org", evaluation=None)

    assert upcoming_titles(world, account_id) == ["Physics midterm"]
    evaluation = world.client.get(
        f"/api/v1/evaluations/{PHYSICS['ref']}", headers=world.coordinator()
    )
    assert evaluation.json["enrolled"] == 1


def test_an_invitation_with_a_code_enrols_nobody_until_activation(world: ExamsWorld) -> None:
    world.exam()
    world.handle(
        example_event(
            "InvitationIssued",
            institution_id=world.institution,
            email="ada@example.org",
            evaluation=EVALUATION,
            account_exists=False,
        )
    )
    evaluation = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert evaluation.json["enrolled"] == 0

    account_id = world.activated()

    assert upcoming_titles(world, account_id) == ["Final exam"]


def test_replayed_events_enrol_once(world: ExamsWorld) -> None:
    world.exam()
    account_id = uuid.uuid4()
    for _ in range(2):
        world.invited_existing()
        world.activated(account_id=account_id)
        world.invited_existing()

    evaluation = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert evaluation.json["enrolled"] == 1
    assert upcoming_titles(world, account_id) == ["Final exam"]


def test_an_enrolment_elsewhere_opens_nothing_here(world: ExamsWorld) -> None:
    """The same reference in another institution is another evaluation."""
    exam_id = world.exam()
    other = uuid.uuid4()
    outsider = world.activated("eve@example.org", institution=other)
    second = world.activated("bob@example.org", evaluation=PHYSICS)
    world.clock.set(EXAM_AT)

    assert upcoming_titles(world, outsider) == []
    assert world.start(exam_id, outsider).status_code == 404
    assert world.start(exam_id, second).status_code == 404


def test_the_latest_device_check_counts_whatever_the_order(world: ExamsWorld) -> None:
    account_id = world.activated()
    later = START + timedelta(hours=5)
    world.device_validated(account_id, validated_at=later, valid_for=timedelta(days=2))
    world.device_validated(account_id, validated_at=START, valid_for=timedelta(days=2))

    device = world.dashboard(account_id)["device"]

    assert device == {
        "validated": True,
        "validated_at": later.isoformat(),
        "valid_until": (later + timedelta(days=2)).isoformat(),
    }
    world.clock.set(later + timedelta(days=2))
    assert world.dashboard(account_id)["device"]["validated"] is False


def test_a_device_check_may_arrive_before_the_account(world: ExamsWorld) -> None:
    account_id = uuid.uuid4()
    world.device_validated(account_id, browser={"name": "Chrome", "version": "136.0"})

    world.activated(account_id=account_id)

    assert world.dashboard(account_id)["device"]["validated"] is True
