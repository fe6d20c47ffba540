"""An attempt from the start to the copy: the subject, autosave with revisions, proctoring
events, the time limit and its grace, submission once, late copies, CopySubmitted."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from exams_testkit import EXAM_AT, PDF, ExamsWorld, exams_world

from contracts.runtime.service import CONTEXT
from exams.jobs import close_overdue_attempts

END = EXAM_AT + timedelta(minutes=90)
GRACE = timedelta(seconds=30)


@pytest.fixture
def exam_id(world: ExamsWorld) -> str:
    return world.exam()


def running(
    world: ExamsWorld, exam_id: str, email: str = "ada@example.org"
) -> tuple[str, uuid.UUID]:
    """The exam started at its start time by a fresh candidate: (attempt, account)."""
    account_id = world.activated(email)
    world.clock.set(EXAM_AT)
    return world.started(exam_id, account_id), account_id


def test_autosave_counts_revisions_and_the_attempt_gives_them_back(
    world: ExamsWorld, exam_id: str
) -> None:
    attempt_id, ada = running(world, exam_id)

    first = world.save(attempt_id, ada, "Question 1: ", 0)
    world.clock.advance(seconds=10)
    second = world.save(attempt_id, ada, "Question 1: 42", 1)
    state = world.client.get(f"/api/v1/attempts/{attempt_id}", headers=world.candidate(ada))

    assert (first.status_code, first.json) == (
        200,
        {"revision": 1, "saved_at": EXAM_AT.isoformat()},
    )
    assert second.json == {"revision": 2, "saved_at": "2026-06-02T09:00:10+00:00"}
    assert state.json["content"] == "Question 1: 42"
    assert state.json["revision"] == 2
    assert state.json["ends_at"] == END.isoformat()
    assert state.json["accepts_answers_until"] == (END + GRACE).isoformat()


def test_a_stale_revision_never_overwrites_a_newer_answer(world: ExamsWorld, exam_id: str) -> None:
    attempt_id, ada = running(world, exam_id)
    assert world.save(attempt_id, ada, "from the first tab", 0).status_code == 200

    second_tab = world.save(attempt_id, ada, "from a second tab", 0)
    french = world.save(attempt_id, ada, "from a second tab", 0, **{"Accept-Language": "fr"})
    from_the_future = world.save(attempt_id, ada, "made up", 7)
    retried = world.save(attempt_id, ada, "from the first tab", 0)  # its answer was lost

    assert second_tab.status_code == 409
    assert second_tab.json == {
        "error": "stale_revision",
        "message": "Your answer was changed elsewhere, in another tab or on another device. "
        "Reload the page to continue from the latest version.",
        "revision": 1,
        "saved_at": EXAM_AT.isoformat(),
    }
    assert french.json["message"].startswith("Votre réponse a été modifiée ailleurs")
    assert (from_the_future.status_code, from_the_future.json["revision"]) == (409, 1)
    assert (retried.status_code, retried.json["revision"]) == (200, 1)
    state = world.client.get(f"/api/v1/attempts/{attempt_id}", headers=world.candidate(ada))
    assert (state.json["content"], state.json["revision"]) == ("from the first tab", 1)


def test_an_answer_that_is_not_valid_is_refused(database_url: str, tmp_path: Path) -> None:
    with exams_world(database_url, tmp_path, EXAMS_ANSWER_MAX_BYTES="10") as world:
        attempt_id, ada = running(world, world.exam())
        url = f"/api/v1/attempts/{attempt_id}/answer"

        too_long = world.save(attempt_id, ada, "é" * 6, 0)  # 6 characters, 12 bytes
        fits = world.save(attempt_id, ada, "é" * 5, 0)
        invalid = [
            world.client.put(url, json=body, headers=world.candidate(ada))
            for body in (
                {"content": "x"},
                {"revision": 1},
                {"content": "x", "revision": -1},
                {"content": "x", "revision": 2**31},
                {"content": "x", "revision": "1"},
                {"content": "x", "revision": 1.5},
                {"content": "nul\x00", "revision": 1},
                {"content": "\udfff", "revision": 1},
                {"content": ["x"], "revision": 1},
            )
        ]

        assert (too_long.status_code, too_long.json["error"]) == (413, "answer_too_large")
        assert too_long.json["max_bytes"] == 10
        assert fits.status_code == 200
        assert [a.status_code for a in invalid] == [422] * len(invalid)


def test_saves_are_taken_until_the_end_plus_the_grace(world: ExamsWorld, exam_id: str) -> None:
    attempt_id, ada = running(world, exam_id)

    world.clock.set(END + GRACE)
    last = world.save(attempt_id, ada, "just in time", 0)
    world.clock.advance(seconds=1)
    late = world.save(attempt_id, ada, "too late", 1)
    late_fr = world.save(attempt_id, ada, "too late", 1, **{"Accept-Language": "fr"})

    assert last.status_code == 200
    assert (late.status_code, late.json["error"]) == (409, "time_over")
    assert late.json["ends_at"] == END.isoformat()
    assert late_fr.json["message"].startswith("Le temps de cet examen est écoulé.")
    document = world.client.get(
        f"/api/v1/attempts/{attempt_id}/document", headers=world.candidate(ada)
    )
    assert (document.status_code, document.json["error"]) == (409, "time_over")


def test_a_submission_is_made_once_with_its_receipt(world: ExamsWorld, exam_id: str) -> None:
    attempt_id, ada = running(world, exam_id)
    world.save(attempt_id, ada, "Réponse : 42", 0)
    world.clock.advance(minutes=45)

    first = world.submit(attempt_id, ada)
    world.clock.advance(minutes=1)
    again = world.submit(attempt_id, ada)
    after = world.save(attempt_id, ada, "second thoughts", 1)

    digest = hashlib.sha256("Réponse : 42".encode()).hexdigest()
    assert first.status_code == 201
    assert first.json == {
        "copy_id": first.json["copy_id"],
        "attempt_id": attempt_id,
        "exam_id": exam_id,
        "sha256": digest,
        "revision": 1,
        "submitted_at": "2026-06-02T09:45:00+00:00",
        "late": False,
    }
    assert (again.status_code, again.json) == (200, first.json)
    assert (after.status_code, after.json["error"]) == (409, "already_submitted")
    (announced,) = world.events("CopySubmitted")
    assert announced.data == {
        "copy_id": uuid.UUID(first.json["copy_id"]),
        "attempt_id": uuid.UUID(attempt_id),
        "exam_id": uuid.UUID(exam_id),
        "exam_title": "Final exam",
        "institution_id": world.institution,
        "account_id": ada,
        "email": "ada@example.org",
        "first_name": "Ada",
        "language": "en",
        "sha256": digest,
        "submitted_at": EXAM_AT + timedelta(minutes=45),
    }


def test_a_late_submission_keeps_the_answer_saved_in_time_and_is_marked_late(
    world: ExamsWorld, exam_id: str
) -> None:
    attempt_id, ada = running(world, exam_id)
    world.save(attempt_id, ada, "saved in time", 0)
    world.clock.set(END + GRACE + timedelta(minutes=5))
    world.save(attempt_id, ada, "written after the end", 1)

    answer = world.submit(attempt_id, ada)

    assert answer.status_code == 201
    assert answer.json["late"] is True
    assert answer.json["sha256"] == hashlib.sha256(b"saved in time").hexdigest()
    assert answer.json["submitted_at"] == (END + GRACE + timedelta(minutes=5)).isoformat()
    assert [e.data["copy_id"] for e in world.events("CopySubmitted")] == [
        uuid.UUID(answer.json["copy_id"])
    ]


def test_a_submission_within_the_grace_is_on_time(world: ExamsWorld, exam_id: str) -> None:
    attempt_id, ada = running(world, exam_id)
    world.clock.set(END + GRACE)

    assert world.submit(attempt_id, ada).json["late"] is False


def test_the_worker_makes_the_copies_of_forgotten_attempts(world: ExamsWorld, exam_id: str) -> None:
    forgotten, ada = running(world, exam_id, "ada@example.org")
    submitted, grace = running(world, exam_id, "grace@example.org")
    world.save(forgotten, ada, "half an answer", 0)
    world.submit(submitted, grace)
    practice = world.activated("bob@example.org")
    world.device_validated(practice)
    world.client.post(
        "/api/v1/technical-test/start",
        json={
            "terms_accepted": True,
            "screen_share": {"display_surface": "monitor"},
            "webcam": {"ok": True},
        },
        headers=world.candidate(practice),
    )
    outbox = world.app.extensions[CONTEXT].outbox

    world.clock.set(END + GRACE)
    assert close_overdue_attempts(world.sessions, outbox, world.clock, GRACE) == 0
    world.clock.advance(seconds=1)
    closed = close_overdue_attempts(world.sessions, outbox, world.clock, GRACE)

    assert closed == 1  # not the submitted one, and not the practice run
    copies = world.client.get(
        f"/api/v1/exams/{exam_id}/copies",
        headers=world.coordinator(),
    ).json["items"]
    by_attempt = {c["attempt_id"]: c for c in copies}
    assert by_attempt[forgotten]["late"] is True
    assert by_attempt[forgotten]["sha256"] == hashlib.sha256(b"half an answer").hexdigest()
    assert len(world.events("CopySubmitted")) == 2
    # the candidate who comes back gets that same copy
    assert world.submit(forgotten, ada).json["copy_id"] == by_attempt[forgotten]["copy_id"]


def test_the_subject_is_served_to_the_attempts_candidate_while_it_runs(
    world: ExamsWorld, exam_id: str
) -> None:
    attempt_id, ada = running(world, exam_id)

    answer = world.client.get(
        f"/api/v1/attempts/{attempt_id}/document", headers=world.candidate(ada)
    )
    world.submit(attempt_id, ada)
    after = world.client.get(
        f"/api/v1/attempts/{attempt_id}/document", headers=world.candidate(ada)
    )

    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.data == PDF
    assert answer.headers["Cache-Control"] == "no-store"
    assert (after.status_code, after.json["error"]) == (409, "already_submitted")


def test_an_exam_without_a_subject_says_so(world: ExamsWorld) -> None:
    world.put_evaluation()
    exam_id = world.create_exam().json["id"]
    ada = world.activated()
    world.clock.set(EXAM_AT)
    attempt_id = world.started(exam_id, ada)

    answer = world.client.get(
        f"/api/v1/attempts/{attempt_id}/document",
        headers=world.candidate(ada, **{"Accept-Language": "fr"}),
    )

    assert (answer.status_code, answer.json["error"]) == (404, "document_not_available")
    assert answer.json["message"].startswith("Le sujet de l'examen n'est pas encore disponible")


def test_another_candidate_reaches_nothing_of_an_attempt(world: ExamsWorld, exam_id: str) -> None:
    attempt_id, ada = running(world, exam_id, "ada@example.org")
    _, eve = running(world, exam_id, "eve@example.org")  # enrolled in the same exam
    world.save(attempt_id, ada, "mine", 0)
    as_eve = world.candidate(eve)
    base = f"/api/v1/attempts/{attempt_id}"

    answers = {
        "attempt": world.client.get(base, headers=as_eve),
        "document": world.client.get(f"{base}/document", headers=as_eve),
        "answer": world.client.put(
            f"{base}/answer", json={"content": "hers", "revision": 1}, headers=as_eve
        ),
        "events": world.client.post(
            f"{base}/events",
            json={"type": "focus_lost", "occurred_at": EXAM_AT.isoformat()},
            headers=as_eve,
        ),
        "submit": world.client.post(f"{base}/submit", headers=as_eve),
    }

    assert {k: a.status_code for k, a in answers.items()} == dict.fromkeys(answers, 404)
    assert {a.json["error"] for a in answers.values()} == {"attempt_not_found"}
    state = world.client.get(base, headers=world.candidate(ada))
    assert (state.json["content"], state.json["submitted_at"]) == ("mine", None)
    coordinator = world.client.get(base, headers=world.coordinator())
    assert coordinator.status_code == 403


def test_proctoring_events_are_a_closed_list_with_the_candidates_clock(
    database_url: str, tmp_path: Path
) -> None:
    with exams_world(database_url, tmp_path, EXAMS_EVENTS_PER_ATTEMPT="3") as world:
        exam_id = world.exam()
        attempt_id, ada = running(world, exam_id)
        url = f"/api/v1/attempts/{attempt_id}/events"

        def report(body: object) -> int:
            return world.client.post(url, json=body, headers=world.candidate(ada)).status_code

        invalid = [
            {"type": "coffee_break", "occurred_at": EXAM_AT.isoformat()},
            {"type": "focus_lost"},
            {"type": "focus_lost", "occurred_at": "2026-06-02T09:00:00"},
            {"type": "focus_lost", "occurred_at": EXAM_AT.isoformat(), "details": {"k": 1}},
            {"type": "focus_lost", "occurred_at": EXAM_AT.isoformat(), "details": {"k": "\x00"}},
            {"type": "focus_lost", "occurred_at": EXAM_AT.isoformat(), "details": {"\ud800": ""}},
            {
                "type": "focus_lost",
                "occurred_at": EXAM_AT.isoformat(),
                "details": {str(n): "v" for n in range(21)},
            },
        ]
        assert [report(body) for body in invalid] == [422] * len(invalid)

        kept = [
            {"type": "screen_share_ended", "occurred_at": "2026-06-02T11:00:10+02:00"},
            {"type": "went_offline", "occurred_at": "2026-06-02T09:01:00Z"},
            {
                "type": "back_online",
                "occurred_at": "2026-06-02T09:02:00+00:00",
                "details": {"offline_seconds": "60"},
            },
        ]
        world.clock.set(END + timedelta(hours=1))  # an offline page reports after the end
        assert [report(body) for body in kept] == [201, 201, 201]
        too_many = world.client.post(url, json=kept[0], headers=world.candidate(ada))
        assert (too_many.status_code, too_many.json["error"]) == (409, "too_many_events")

        listed = world.client.get(
            f"/api/v1/exams/{exam_id}/attempts/{attempt_id}/events",
            headers=world.coordinator(),
        ).json["items"]
        assert [(e["type"], e["occurred_at"]) for e in listed] == [
            ("screen_share_ended", "2026-06-02T09:00:10+00:00"),
            ("went_offline", "2026-06-02T09:01:00+00:00"),
            ("back_online", "2026-06-02T09:02:00+00:00"),
        ]
        assert listed[2]["details"] == {"offline_seconds": "60"}
        assert {e["received_at"] for e in listed} == {(END + timedelta(hours=1)).isoformat()}
