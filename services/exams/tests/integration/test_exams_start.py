"""Starting an exam or the technical test: each refusal with its words in English and
French, the start window's edges, one attempt per candidate, ExamStarted in the outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from exams_testkit import EVERYTHING, EXAM_AT, READY, ExamsWorld

from exams.domain import TECHNICAL_TEST_ID

SECOND = timedelta(seconds=1)
WINDOW = timedelta(minutes=20)


def refusal(answer: Any) -> str:
    assert answer.status_code == 409, answer.json
    error: str = answer.json["error"]
    return error


def test_each_unmet_requirement_refuses_the_start_in_english_and_french(
    world: ExamsWorld,
) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    novice = world.activated("novice@example.org")
    ready = world.ready_candidate("ready@example.org")
    prepared_but_no_test = world.activated("half@example.org")
    world.device_validated(prepared_but_no_test)
    cases = [
        (novice, READY, "device_check_required"),
        (prepared_but_no_test, READY, "technical_test_required"),
        (ready, {**READY, "screen_share": {"display_surface": "window"}}, "screen_share_required"),
        (ready, {**READY, "screen_share": {"display_surface": "browser"}}, "screen_share_required"),
        (ready, {**READY, "screen_share": None}, "screen_share_required"),
        (ready, {**READY, "webcam": {"ok": False}}, "webcam_required"),
        (ready, {k: v for k, v in READY.items() if k != "webcam"}, "webcam_required"),
        (ready, {**READY, "terms_accepted": False}, "terms_not_accepted"),
        (ready, {k: v for k, v in READY.items() if k != "terms_accepted"}, "terms_not_accepted"),
    ]  # fmt: skip
    world.clock.set(EXAM_AT)

    for account_id, body, error in cases:
        english = world.start(exam_id, account_id, body)
        french = world.start(exam_id, account_id, body, **{"Accept-Language": "fr-CA,fr;q=0.9"})

        assert refusal(english) == refusal(french) == error, body
        assert english.json["unmet"][0] == error
        assert english.json["message"] and french.json["message"]
        assert english.json["message"] != french.json["message"]
    assert world.events("ExamStarted") == []
    assert world.start(exam_id, ready).status_code == 201


def test_every_unmet_requirement_is_listed_most_fundamental_first(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    novice = world.activated()
    world.clock.set(EXAM_AT - SECOND)

    answer = world.start(exam_id, novice, {"screen_share": {"display_surface": "window"}})

    assert answer.status_code == 409
    assert answer.json == {
        "error": "outside_start_window",
        "message": "This exam cannot be started now. It can be started from its start time "
        "and for 20 minutes after.",
        "unmet": [
            "outside_start_window",
            "device_check_required",
            "technical_test_required",
            "screen_share_required",
            "webcam_required",
            "terms_not_accepted",
        ],
        "start_window_minutes": 20,
        "starts_at": EXAM_AT.isoformat(),
        "start_closes_at": (EXAM_AT + WINDOW).isoformat(),
    }
    french = world.start(exam_id, novice, READY, **{"Accept-Language": "fr"})
    assert french.json["message"] == (
        "Cet examen ne peut pas être commencé maintenant. Il peut l'être à partir de son heure "
        "de début et pendant 20 minutes ensuite."
    )
    world.clock.set(EXAM_AT)
    assert world.start(exam_id, novice, READY, **{"Accept-Language": "fr"}).json["message"] == (
        "Validez votre appareil avant de commencer cet examen."
    )


def test_the_start_window_includes_its_start_and_excludes_its_end(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    edges = [
        (-SECOND, False),
        (timedelta(0), True),  # the start time is in
        (WINDOW - SECOND, True),
        (WINDOW, False),  # the end of the window is out
    ]
    for number, (offset, allowed) in enumerate(edges):
        account_id = world.ready_candidate(f"candidate{number}@example.org")
        world.clock.set(EXAM_AT + offset)

        answer = world.start(exam_id, account_id)

        if allowed:
            assert answer.status_code == 201, (offset, answer.json)
            # the full duration, however late in the window
            ends_at = EXAM_AT + offset + timedelta(minutes=90)
            assert answer.json["ends_at"] == ends_at.isoformat()
        else:
            assert refusal(answer) == "outside_start_window", offset
        world.clock.set(EXAM_AT - timedelta(hours=1))


def test_a_device_check_that_ends_at_the_start_is_no_longer_valid(world: ExamsWorld) -> None:
    exam_id = world.exam(requires={"device_check": True})
    account_id = world.activated()
    world.device_validated(account_id, valid_for=EXAM_AT - world.clock())
    world.clock.set(EXAM_AT)

    assert refusal(world.start(exam_id, account_id)) == "device_check_required"

    world.device_validated(account_id)
    assert world.start(exam_id, account_id).status_code == 201


def test_starting_again_resumes_the_same_attempt_and_announces_once(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    account_id = world.ready_candidate()
    world.clock.set(EXAM_AT + timedelta(minutes=19))

    first = world.start(exam_id, account_id)
    world.clock.advance(minutes=30)  # the window has closed; the attempt runs on
    again = world.start(exam_id, account_id, {"terms_accepted": False})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    (started,) = world.events("ExamStarted")
    assert started.data == {
        "attempt_id": uuid.UUID(first.json["attempt_id"]),
        "exam_id": uuid.UUID(exam_id),
        "account_id": account_id,
        "institution_id": world.institution,
        "evaluation_ref": "MATH101-FINAL-2026",
        "started_at": EXAM_AT + timedelta(minutes=19),
        "ends_at": EXAM_AT + timedelta(minutes=109),
    }


def test_no_second_attempt_after_the_copy_or_the_time(world: ExamsWorld) -> None:
    exam_id = world.exam()
    ada = world.activated("ada@example.org")
    grace = world.activated("grace@example.org")
    world.clock.set(EXAM_AT)
    ada_attempt = world.started(exam_id, ada)
    grace_attempt = world.started(exam_id, grace)
    copy_id = world.submit(ada_attempt, ada).json["copy_id"]
    world.clock.advance(minutes=90, seconds=31)

    submitted = world.start(exam_id, ada)
    over = world.start(exam_id, grace)

    assert refusal(submitted) == "already_submitted"
    assert submitted.json["copy_id"] == copy_id
    assert refusal(over) == "time_over"
    assert over.json["attempt_id"] == grace_attempt


def test_only_enrolled_candidates_may_start(world: ExamsWorld) -> None:
    exam_id = world.exam()
    stranger = world.activated("eve@example.org", evaluation=None)
    world.clock.set(EXAM_AT)

    answers = [
        world.start(exam_id, stranger),
        world.start(exam_id, stranger, **{"Accept-Language": "fr"}),
        world.start(str(uuid.uuid4()), stranger),
        world.start(str(TECHNICAL_TEST_ID), world.activated()),  # not this way
    ]

    assert [a.status_code for a in answers] == [404] * 4
    assert [a.json["error"] for a in answers] == ["exam_not_found"] * 4
    assert answers[1].json["message"] == "Cet examen n'existe pas."
    coordinator = world.client.post(
        f"/api/v1/exams/{exam_id}/start", json=READY, headers=world.coordinator()
    )
    assert coordinator.status_code == 403
    not_an_account = world.tokens.header(roles=("candidate",), subject="ada@example.org")
    odd = world.client.post(f"/api/v1/exams/{exam_id}/start", json=READY, headers=not_an_account)
    assert (odd.status_code, odd.json["error"]) == (403, "forbidden")


def test_a_start_body_that_is_not_valid_is_refused(world: ExamsWorld) -> None:
    exam_id = world.exam()
    account_id = world.activated()
    world.clock.set(EXAM_AT)

    for body in (
        {"terms_accepted": "sure"},
        {"terms_accepted": True, "screen_share": "monitor"},
        {"terms_accepted": True, "screen_share": {"display_surface": "m" * 17}},
        {"terms_accepted": True, "webcam": {"ok": True, "fps": 30}},
        {"terms_accepted": True, "screen_share": {"display_surface": "\ud800"}},
        [READY],
        7,
    ):
        answer = world.start(exam_id, account_id, body)  # type: ignore[arg-type]
        assert answer.status_code == 422, (body, answer.json)
    assert world.events("ExamStarted") == []


def test_the_technical_test_is_always_open_and_marks_the_test_done(world: ExamsWorld) -> None:
    exam_id = world.exam(requires={"technical_test": True})
    account_id = world.activated()
    other = world.activated("grace@example.org")
    world.clock.advance(hours=17)  # 2 a.m. the night before the exam

    unchecked = world.client.post(
        "/api/v1/technical-test/start", json=READY, headers=world.candidate(account_id)
    )
    world.device_validated(account_id)
    no_terms = world.client.post(
        "/api/v1/technical-test/start",
        json={**READY, "terms_accepted": False},
        headers=world.candidate(account_id),
    )
    started = world.client.post(
        "/api/v1/technical-test/start", json=READY, headers=world.candidate(account_id)
    )
    again = world.client.post(
        "/api/v1/technical-test/start", json=READY, headers=world.candidate(account_id)
    )

    assert refusal(unchecked) == "device_check_required"
    assert refusal(no_terms) == "terms_not_accepted"
    assert (started.status_code, again.status_code) == (201, 200)
    assert again.json["attempt_id"] == started.json["attempt_id"]
    assert started.json["kind"] == "technical_test"
    assert started.json["ends_at"] == (world.clock() + timedelta(minutes=15)).isoformat()
    attempt_id = started.json["attempt_id"]
    document = world.client.get(
        f"/api/v1/attempts/{attempt_id}/document", headers=world.candidate(account_id)
    )
    assert document.data.startswith(b"%PDF-")
    assert world.dashboard(account_id)["technical_test"]["done"] is False
    assert world.submit(attempt_id, account_id).status_code == 201
    board = world.dashboard(account_id)
    assert board["technical_test"]["done"] is True
    assert board["submitted_copies"] == []  # a practice run is not a copy to keep
    assert world.dashboard(other)["technical_test"]["done"] is False
    # nobody is told about practice runs
    assert world.events("ExamStarted") == world.events("CopySubmitted") == []
    # another practice run is a new attempt
    another = world.client.post(
        "/api/v1/technical-test/start", json=READY, headers=world.candidate(account_id)
    )
    assert another.status_code == 201
    assert another.json["attempt_id"] != attempt_id
    # and the exam that required it no longer asks for it
    world.clock.set(EXAM_AT)
    assert world.start(exam_id, account_id).status_code == 201
