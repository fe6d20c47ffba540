"""The candidate's dashboard: upcoming exams with what each still needs and whether it can be
started now, the candidate's own submitted copies, the technical test and the device."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from exams_testkit import EVALUATION, EVERYTHING, EXAM_AT, ExamsWorld

from exams.domain import TECHNICAL_TEST_ID


def test_a_new_candidate_sees_the_exam_and_what_it_needs(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    ada = world.activated()

    board = world.dashboard(ada)

    assert board == {
        "upcoming_exams": [
            {
                "id": exam_id,
                "title": "Final exam",
                "evaluation": EVALUATION,
                "starts_at": EXAM_AT.isoformat(),
                "start_closes_at": "2026-06-02T09:20:00+00:00",
                "ends_at": "2026-06-02T10:50:00+00:00",
                "duration_minutes": 90,
                "start_window_minutes": 20,
                "requires": EVERYTHING,
                "document_available": True,
                "missing": ["device_check", "technical_test"],
                "can_start_now": False,
                "attempt": None,
            }
        ],
        "submitted_copies": [],
        "technical_test": {"required": True, "done": False, "exam_id": str(TECHNICAL_TEST_ID)},
        "device": {"validated": False, "validated_at": None, "valid_until": None},
    }


def test_what_is_missing_and_when_the_exam_can_start(world: ExamsWorld) -> None:
    world.exam(requires=EVERYTHING)
    ada = world.activated()
    # valid now, but lapsed by the exam's start: already missing
    world.device_validated(ada, valid_for=timedelta(hours=12))
    world.technical_test_done(ada)
    (exam,) = world.dashboard(ada)["upcoming_exams"]
    assert exam["missing"] == ["device_check"]
    assert world.dashboard(ada)["device"]["validated"] is True

    world.clock.advance(minutes=5)
    world.device_validated(ada)
    (exam,) = world.dashboard(ada)["upcoming_exams"]
    assert (exam["missing"], exam["can_start_now"]) == ([], False)

    world.clock.set(EXAM_AT)
    (exam,) = world.dashboard(ada)["upcoming_exams"]
    assert exam["can_start_now"] is True

    world.clock.set(EXAM_AT + timedelta(minutes=20))
    assert world.dashboard(ada)["upcoming_exams"] == []  # missed: its window has closed


def test_a_running_attempt_stays_until_its_copy_is_submitted(world: ExamsWorld) -> None:
    exam_id = world.exam()
    ada = world.activated()
    world.clock.set(EXAM_AT + timedelta(minutes=5))
    attempt_id = world.started(exam_id, ada)
    world.save(attempt_id, ada, "done", 0)

    world.clock.set(EXAM_AT + timedelta(minutes=30))  # the window closed; the attempt runs
    (exam,) = world.dashboard(ada)["upcoming_exams"]
    receipt = world.submit(attempt_id, ada).json
    board = world.dashboard(ada)

    assert exam["attempt"] == {
        "attempt_id": attempt_id,
        "ends_at": (EXAM_AT + timedelta(minutes=95)).isoformat(),
    }
    assert exam["can_start_now"] is True  # it resumes
    assert board["upcoming_exams"] == []
    assert board["submitted_copies"] == [
        {
            "copy_id": receipt["copy_id"],
            "exam_id": exam_id,
            "exam_title": "Final exam",
            "sha256": hashlib.sha256(b"done").hexdigest(),
            "submitted_at": "2026-06-02T09:30:00+00:00",
            "late": False,
        }
    ]


def test_each_candidate_sees_only_their_own_copies(world: ExamsWorld) -> None:
    exam_id = world.exam()
    ada = world.activated("ada@example.org")
    grace = world.activated("grace@example.org")
    stranger = world.activated("eve@example.org", evaluation=None)
    world.clock.set(EXAM_AT)
    ada_copy = world.submit(world.started(exam_id, ada), ada).json["copy_id"]
    grace_attempt = world.started(exam_id, grace)

    assert [c["copy_id"] for c in world.dashboard(ada)["submitted_copies"]] == [ada_copy]
    assert world.dashboard(grace)["submitted_copies"] == []
    assert [e["attempt"]["attempt_id"] for e in world.dashboard(grace)["upcoming_exams"]] == [
        grace_attempt
    ]
    assert world.dashboard(stranger) == {
        "upcoming_exams": [],
        "submitted_copies": [],
        "technical_test": {"required": False, "done": False, "exam_id": str(TECHNICAL_TEST_ID)},
        "device": {"validated": False, "validated_at": None, "valid_until": None},
    }


def test_the_dashboard_is_for_candidates(world: ExamsWorld) -> None:
    assert world.client.get("/api/v1/dashboard").status_code == 401
    assert world.client.get("/api/v1/dashboard", headers=world.coordinator()).status_code == 403
