"""The coordinator's API through Flask's test client, on SQLite and PostgreSQL: evaluations by
reference, exams, their PDF subject, and what candidates did, all within one institution."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from exams_testkit import (
    EVALUATION,
    EVERYTHING,
    EXAM_AT,
    PDF,
    START,
    ExamsWorld,
    exams_world,
)

from exams.domain import PDF_TYPE


def test_put_creates_the_evaluation_then_renames_it(world: ExamsWorld) -> None:
    created = world.put_evaluation(name="Mathematics 101")
    world.clock.advance(hours=1)
    renamed = world.put_evaluation(name="Mathematics 101 (final)")

    assert created.status_code == 201
    assert renamed.status_code == 200
    assert renamed.json == {
        "ref": EVALUATION["ref"],
        "name": "Mathematics 101 (final)",
        "created_at": START.isoformat(),
        "updated_at": world.clock().isoformat(),
        "enrolled": 0,
        "exams": [],
    }
    fetched = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert fetched.json == renamed.json


def test_an_api_client_manages_evaluations_too(world: ExamsWorld) -> None:
    client = world.tokens.header(roles=("api_client",), institution=world.institution)

    answer = world.client.put(
        "/api/v1/evaluations/CHEM-2026", json={"name": "Chemistry"}, headers=client
    )

    assert answer.status_code == 201


def test_an_exam_is_scheduled_with_a_twenty_minute_window_by_default(world: ExamsWorld) -> None:
    world.put_evaluation()

    answer = world.create_exam(title="  Final exam  ", duration_minutes=90)

    assert answer.status_code == 201
    body = answer.json
    assert body == {
        "id": body["id"],
        "kind": "exam",
        "title": "Final exam",
        "evaluation": EVALUATION,
        "starts_at": EXAM_AT.isoformat(),
        "start_closes_at": "2026-06-02T09:20:00+00:00",
        "ends_at": "2026-06-02T10:50:00+00:00",
        "duration_minutes": 90,
        "start_window_minutes": 20,
        "requires": {
            "screen_share": False,
            "webcam": False,
            "device_check": False,
            "technical_test": False,
        },
        "document": None,
        "created_at": START.isoformat(),
    }
    same = world.client.get(f"/api/v1/exams/{body['id']}", headers=world.coordinator())
    assert same.json == body


def test_an_exam_keeps_its_window_and_requirements(world: ExamsWorld) -> None:
    world.put_evaluation()

    answer = world.create_exam(
        starts_at="2026-06-02T11:00:00+02:00",
        start_window_minutes=5,
        requires={"screen_share": True, "webcam": True},
    )

    assert answer.status_code == 201
    assert answer.json["starts_at"] == EXAM_AT.isoformat()  # kept in UTC
    assert answer.json["start_closes_at"] == "2026-06-02T09:05:00+00:00"
    assert answer.json["requires"] == {
        "screen_share": True,
        "webcam": True,
        "device_check": False,
        "technical_test": False,
    }


INVALID_EXAMS: list[dict[str, Any]] = [
    {"title": None},
    {"title": "   "},
    {"title": "x" * 201},
    {"title": "nul\x00"},
    {"title": "lone \ud800 surrogate"},
    {"starts_at": "2026-06-02T09:00:00"},  # no offset: which time zone?
    {"starts_at": "1999-12-31T23:00:00+00:00"},
    {"starts_at": "9999-12-31T23:59:59-12:00"},
    {"starts_at": "tomorrow"},
    {"duration_minutes": 0},
    {"duration_minutes": 24 * 60 + 1},
    {"duration_minutes": "90"},
    {"start_window_minutes": 0},
    {"requires": {"webcam": "yes please"}},
    {"requires": {"fingerprint": True}},
    {"proctor": "Bob"},
]


def test_an_invalid_exam_is_refused_and_nothing_is_created(world: ExamsWorld) -> None:
    world.put_evaluation()
    for change in INVALID_EXAMS:
        body = {"title": "Final", "starts_at": EXAM_AT.isoformat(), "duration_minutes": 90}
        body.update(change)
        body = {k: v for k, v in body.items() if v is not None}

        answer = world.client.post(
            f"/api/v1/evaluations/{EVALUATION['ref']}/exams",
            json=body,
            headers=world.coordinator(),
        )

        assert answer.status_code == 422, (change, answer.json)
        assert answer.json["error"] == "validation_error"
        assert answer.json["message"]
    listed = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert listed.json["exams"] == []


def test_a_title_or_name_with_a_control_character_is_422_naming_the_field(
    world: ExamsWorld,
) -> None:
    world.put_evaluation()
    for text in ("Final\r\nBcc: evil@example.com", "Final\texam", "Final\u2028exam"):
        exam = world.create_exam(title=text)
        renamed = world.put_evaluation(name=text)

        for answer, field in ((exam, "title"), (renamed, "name")):
            assert answer.status_code == 422, (text, field)
            assert answer.json["error"] == "validation_error"
            assert answer.json["errors"]["json"] == {
                field: ["Control characters such as line breaks or tabs are not allowed."]
            }
    evaluation = world.client.get(
        f"/api/v1/evaluations/{EVALUATION['ref']}", headers=world.coordinator()
    )
    assert (evaluation.json["name"], evaluation.json["exams"]) == (EVALUATION["name"], [])


def test_bodies_that_are_not_json_and_bad_references_are_refused(world: ExamsWorld) -> None:
    not_json = world.client.put(
        "/api/v1/evaluations/X1",
        data="name=Chemistry",
        headers={**world.coordinator(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    broken = world.client.put(
        "/api/v1/evaluations/X1",
        data="{",
        headers={**world.coordinator(), "Content-Type": "application/json"},
    )
    too_long = world.put_evaluation(ref="R" * 101)
    with_nul = world.put_evaluation(ref="R%00")

    assert not_json.status_code == 422
    assert broken.status_code == 400
    assert (too_long.status_code, too_long.json["error"]) == (422, "validation_error")
    assert (with_nul.status_code, with_nul.json["error"]) == (422, "validation_error")


def test_an_exam_needs_an_existing_evaluation(world: ExamsWorld) -> None:
    answer = world.create_exam(ref="UNKNOWN-REF")

    assert answer.status_code == 404
    assert answer.json["error"] == "evaluation_not_found"


def test_the_subject_is_stored_and_described(world: ExamsWorld) -> None:
    world.put_evaluation()
    exam_id = world.create_exam().json["id"]

    answer = world.upload(exam_id)

    assert answer.status_code == 200
    assert answer.json["document"] == {
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "uploaded_at": START.isoformat(),
    }
    # an upload tool's generic label is fine: the signature decides
    replaced = world.upload(exam_id, PDF + b"%", content_type="application/octet-stream")
    assert replaced.json["document"]["size"] == len(PDF) + 1


BAD_SUBJECTS = [
    (PDF, "text/plain", 415, "unsupported_media_type"),
    (PDF, "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
    (b"PK\x03\x04 a zip file", "application/pdf", 422, "document_not_pdf"),
    (b"", "application/pdf", 422, "document_not_pdf"),
    (b"%PDF-" + b"0" * 2000, "application/pdf", 413, "document_too_large"),
]


def test_a_subject_that_is_not_an_acceptable_pdf_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    with exams_world(database_url, tmp_path, EXAMS_DOCUMENT_MAX_BYTES="1500") as world:
        world.put_evaluation()
        exam_id = world.create_exam().json["id"]
        for data, content_type, status, error in BAD_SUBJECTS:
            answer = world.upload(exam_id, data, content_type=content_type)

            assert (answer.status_code, answer.json["error"]) == (status, error), answer.json
            assert answer.json["message"]
        exam = world.client.get(f"/api/v1/exams/{exam_id}", headers=world.coordinator())
        assert exam.json["document"] is None
        french = world.client.put(
            f"/api/v1/exams/{exam_id}/document",
            data=b"<html>",
            headers={**world.coordinator(), "Content-Type": PDF_TYPE, "Accept-Language": "fr"},
        )
        assert french.json["message"] == "Le document n'est pas un fichier PDF."


def test_the_subject_cannot_be_replaced_once_a_candidate_started(world: ExamsWorld) -> None:
    exam_id = world.exam()
    account_id = world.activated()
    world.clock.set(EXAM_AT)
    world.started(exam_id, account_id)

    answer = world.upload(exam_id, PDF + b"% changed")

    assert (answer.status_code, answer.json["error"]) == (409, "exam_already_started")


def test_another_institution_finds_nothing_and_changes_nothing(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    account_id = world.ready_candidate()
    world.clock.set(EXAM_AT)
    attempt_id = world.started(exam_id, account_id)
    copy_id = world.submit(attempt_id, account_id).json["copy_id"]
    other = uuid.uuid4()
    as_other = world.coordinator(other)
    ref = EVALUATION["ref"]

    answers = {
        "evaluation": world.client.get(f"/api/v1/evaluations/{ref}", headers=as_other),
        "new exam": world.create_exam(institution=other),
        "exam": world.client.get(f"/api/v1/exams/{exam_id}", headers=as_other),
        "document": world.upload(exam_id, institution=other),
        "copies": world.client.get(f"/api/v1/exams/{exam_id}/copies", headers=as_other),
        "copy": world.client.get(f"/api/v1/exams/{exam_id}/copies/{copy_id}", headers=as_other),
        "attempts": world.client.get(f"/api/v1/exams/{exam_id}/attempts", headers=as_other),
        "events": world.client.get(
            f"/api/v1/exams/{exam_id}/attempts/{attempt_id}/events", headers=as_other
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 404)
    assert all(a.json["error"].endswith("_not_found") for a in answers.values())
    # the same reference in another institution is another evaluation
    assert world.put_evaluation(institution=other).status_code == 201
    mine = world.client.get(f"/api/v1/evaluations/{ref}", headers=world.coordinator())
    assert [e["id"] for e in mine.json["exams"]] == [exam_id]
    assert mine.json["enrolled"] == 1


def test_only_coordinators_of_an_institution_may_manage(world: ExamsWorld) -> None:
    exam_id = world.exam()
    candidate = world.candidate(world.activated())
    no_institution = world.tokens.header(roles=("coordinator",))

    assert world.client.get(f"/api/v1/exams/{exam_id}").status_code == 401
    assert world.client.get(f"/api/v1/exams/{exam_id}", headers=candidate).status_code == 403
    refused = world.client.get(f"/api/v1/exams/{exam_id}", headers=no_institution)
    assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    assert world.put_evaluation().status_code == 200  # still there, unchanged


def test_the_coordinator_sees_attempts_events_and_copies(world: ExamsWorld) -> None:
    exam_id = world.exam(requires=EVERYTHING)
    ada = world.ready_candidate("ada@example.org")
    grace = world.ready_candidate("grace@example.org")
    world.clock.set(EXAM_AT)
    ada_attempt = world.started(exam_id, ada)
    grace_attempt = world.started(exam_id, grace)
    assert world.save(ada_attempt, ada, "x = 42", 0).status_code == 200
    for kind in ("focus_lost", "focus_back"):
        world.clock.advance(seconds=5)
        reported = world.client.post(
            f"/api/v1/attempts/{ada_attempt}/events",
            json={"type": kind, "occurred_at": "2026-06-02T09:00:03+00:00"},
            headers=world.candidate(ada),
        )
        assert reported.status_code == 201
    world.clock.advance(minutes=10)
    receipt = world.submit(ada_attempt, ada).json

    copies = world.client.get(f"/api/v1/exams/{exam_id}/copies", headers=world.coordinator())
    attempts = world.client.get(f"/api/v1/exams/{exam_id}/attempts", headers=world.coordinator())
    events = world.client.get(
        f"/api/v1/exams/{exam_id}/attempts/{ada_attempt}/events", headers=world.coordinator()
    )
    copy = world.client.get(
        f"/api/v1/exams/{exam_id}/copies/{receipt['copy_id']}", headers=world.coordinator()
    )

    assert copies.json == {
        "items": [
            {
                "copy_id": receipt["copy_id"],
                "attempt_id": ada_attempt,
                "candidate": {
                    "account_id": str(ada),
                    "email": "ada@example.org",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                },
                "sha256": hashlib.sha256(b"x = 42").hexdigest(),
                "revision": 1,
                "submitted_at": "2026-06-02T09:10:10+00:00",
                "late": False,
            }
        ]
    }
    assert copy.json == {**copies.json["items"][0], "content": "x = 42"}
    by_attempt = {a["attempt_id"]: a for a in attempts.json["items"]}
    assert by_attempt[ada_attempt]["events"] == 2
    assert by_attempt[ada_attempt]["display_surface"] == "monitor"
    assert by_attempt[grace_attempt]["events"] == 0
    assert by_attempt[grace_attempt]["submitted_at"] is None
    assert [e["type"] for e in events.json["items"]] == ["focus_lost", "focus_back"]
    assert events.json["items"][0]["occurred_at"] == "2026-06-02T09:00:03+00:00"
    assert events.json["items"][0]["received_at"] == "2026-06-02T09:00:05+00:00"
    # an attempt of another exam is not found under this one
    other_exam = world.create_exam(title="Resit").json["id"]
    wrong = world.client.get(
        f"/api/v1/exams/{other_exam}/attempts/{ada_attempt}/events", headers=world.coordinator()
    )
    assert (wrong.status_code, wrong.json["error"]) == (404, "attempt_not_found")
