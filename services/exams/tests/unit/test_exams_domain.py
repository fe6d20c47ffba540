"""The exams rules on their own, no I/O: the start window's edges, the order of refusals,
the grace after the end, the subject's signature, the technical test's built-in PDF."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from exams.domain import (
    Declaration,
    ExamRefusal,
    Preparation,
    Requirements,
    Schedule,
    Standing,
    StartRefusal,
    answer_digest,
    check_document,
    check_writable,
    is_late,
    missing_preparations,
    start_refusals,
)
from exams.technical_test import subject_pdf

NINE = datetime(2026, 6, 2, 9, 0, 0, tzinfo=UTC)
SCHEDULE = Schedule(NINE, timedelta(minutes=90), timedelta(minutes=20))
EVERYTHING = Requirements(screen_share=True, webcam=True, device_check=True, technical_test=True)
PREPARED = Standing(device_valid_until=NINE + timedelta(days=1), technical_test_done=True)
READY = Declaration(terms_accepted=True, display_surface="monitor", webcam_ok=True)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (NINE - SECOND, False),
        (NINE, True),  # the start time itself is in
        (NINE + timedelta(minutes=20) - SECOND, True),
        (NINE + timedelta(minutes=20), False),  # the window's end is out
    ],
)
def test_the_start_window_includes_its_start_and_excludes_its_end(
    moment: datetime, open_: bool
) -> None:
    assert SCHEDULE.window_open(moment) is open_
    refusals = start_refusals(SCHEDULE, EVERYTHING, PREPARED, READY, moment)
    assert refusals == ([] if open_ else [StartRefusal.OUTSIDE_START_WINDOW])


def test_every_attempt_gets_the_full_duration_and_the_latest_end_follows_the_window() -> None:
    late_start = NINE + timedelta(minutes=19)

    assert SCHEDULE.ends_at(late_start) == late_start + timedelta(minutes=90)
    assert SCHEDULE.start_closes_at == NINE + timedelta(minutes=20)
    assert SCHEDULE.latest_end == NINE + timedelta(minutes=110)


def test_refusals_come_in_the_order_the_candidate_meets_them() -> None:
    nothing_done = Standing(device_valid_until=None, technical_test_done=False)
    careless = Declaration(terms_accepted=False, display_surface="window", webcam_ok=False)

    refusals = start_refusals(SCHEDULE, EVERYTHING, nothing_done, careless, NINE - SECOND)

    assert refusals == list(StartRefusal)


def test_only_what_the_exam_requires_is_asked() -> None:
    nothing = Requirements(
        screen_share=False, webcam=False, device_check=False, technical_test=False
    )
    nothing_done = Standing(device_valid_until=None, technical_test_done=False)
    bare = Declaration(terms_accepted=True, display_surface=None, webcam_ok=False)

    assert start_refusals(SCHEDULE, nothing, nothing_done, bare, NINE) == []


@pytest.mark.parametrize("surface", ["window", "browser", None, "Monitor"])
def test_only_the_entire_screen_counts_as_sharing(surface: str | None) -> None:
    declaration = Declaration(terms_accepted=True, display_surface=surface, webcam_ok=True)

    refusals = start_refusals(SCHEDULE, EVERYTHING, PREPARED, declaration, NINE)

    assert refusals == [StartRefusal.SCREEN_SHARE_REQUIRED]


def test_a_device_check_is_valid_until_its_end_excluded() -> None:
    standing = Standing(device_valid_until=NINE, technical_test_done=True)

    assert missing_preparations(EVERYTHING, standing, NINE - SECOND) == []
    assert missing_preparations(EVERYTHING, standing, NINE) == [Preparation.DEVICE_CHECK]


def test_answers_are_taken_until_the_end_plus_the_grace_included() -> None:
    ends_at, grace = NINE, timedelta(seconds=30)

    check_writable(ends_at, False, ends_at + grace, grace)
    assert not is_late(ends_at, ends_at + grace, grace)
    with pytest.raises(ExamRefusal) as refused:
        check_writable(ends_at, False, ends_at + grace + SECOND, grace)
    assert refused.value.code == "time_over"
    assert is_late(ends_at, ends_at + grace + SECOND, grace)
    with pytest.raises(ExamRefusal) as done:
        check_writable(ends_at, True, ends_at, grace)
    assert done.value.code == "already_submitted"


def test_the_receipt_is_the_sha256_of_the_utf8_text() -> None:
    assert answer_digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert answer_digest("é") == hashlib.sha256(b"\xc3\xa9").hexdigest()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "document_not_pdf"),
        (b"PK\x03\x04zip", "document_not_pdf"),
        (b"%PDF-" + b"x" * 20, "document_too_large"),
    ],
)
def test_a_subject_must_be_a_pdf_within_the_limit(data: bytes, error: str) -> None:
    with pytest.raises(ExamRefusal) as refused:
        check_document(data, max_bytes=20)
    assert refused.value.code == error


def test_the_technical_test_subject_is_a_well_formed_pdf() -> None:
    pdf = subject_pdf(("Line (one)", "Line two"))

    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref_at = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[xref_at:].startswith(b"xref\n0 6\n")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n ", pdf)]
    assert [pdf[o:].split(b"\n")[0] for o in offsets] == [
        f"{n} 0 obj".encode() for n in range(1, 6)
    ]
    assert b"(Line \\(one\\)) '" in pdf
