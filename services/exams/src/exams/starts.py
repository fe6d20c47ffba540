"""Starting: an exam the candidate is enrolled in, within its window and with what it
requires, or the technical test at any time. Each use case takes the session, the outbox and
the time as arguments and leaves committing to its caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, exists, insert, select
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from exams.attempts import attempt_select, own_attempt
from exams.catalogue import exam_select, requirements_of, schedule_of
from exams.domain import (
    TECHNICAL_TEST_ID,
    Declaration,
    ExamRefusal,
    Kind,
    Schedule,
    Standing,
    is_late,
    start_refusals,
)
from exams.store import attempts, copies, devices, enrolments, exams
from exams.technical_test import ensure_technical_test


@dataclass(frozen=True)
class Started:
    attempt: Row[Any]
    created: bool


def standing_of(session: Session, account_id: uuid.UUID) -> Standing:
    valid_until = session.scalar(
        select(devices.c.valid_until).where(devices.c.account_id == account_id)
    )
    practice = select(copies.c.id).where(
        copies.c.account_id == account_id, copies.c.exam_id == TECHNICAL_TEST_ID
    )
    return Standing(
        device_valid_until=valid_until,
        technical_test_done=session.scalar(practice.limit(1)) is not None,
    )


def enrolled_exam(session: Session, exam_id: uuid.UUID, account_id: uuid.UUID) -> Row[Any]:
    """The exam, if the candidate is enrolled in its evaluation; otherwise it does not exist
    as far as they can tell."""
    enrolled = exists().where(
        enrolments.c.evaluation_id == exams.c.evaluation_id,
        enrolments.c.account_id == account_id,
    )
    row = session.execute(
        exam_select().where(exams.c.id == exam_id, exams.c.kind == Kind.EXAM.value, enrolled)
    ).first()
    if row is None:
        raise ExamRefusal("exam_not_found")
    return row


def start_exam(
    session: Session,
    outbox: Outbox,
    exam_id: uuid.UUID,
    account_id: uuid.UUID,
    declaration: Declaration,
    now: datetime,
    grace: timedelta,
) -> Started:
    """One attempt per candidate and exam: starting again resumes it while it runs."""
    exam = enrolled_exam(session, exam_id, account_id)
    existing = _latest_attempt(session, exam.id, account_id)
    if existing is not None:
        return _resume(session, existing, now, grace)
    schedule = schedule_of(exam)
    _check_start(schedule, exam, standing_of(session, account_id), declaration, now)
    attempt = _new_attempt(session, exam, account_id, 1, schedule, declaration, now)
    outbox.add(
        session,
        "ExamStarted",
        {
            "attempt_id": attempt.id,
            "exam_id": exam.id,
            "account_id": account_id,
            "institution_id": exam.institution_id,
            "evaluation_ref": exam.evaluation_ref,
            "started_at": attempt.started_at,
            "ends_at": attempt.ends_at,
        },
    )
    return Started(attempt, created=True)


def start_technical_test(
    session: Session,
    account_id: uuid.UUID,
    declaration: Declaration,
    now: datetime,
    grace: timedelta,
    minutes: int,
) -> Started:
    """The same sequence as an exam, at any time; a finished practice run may be followed by
    another. Nothing is announced: no one is to be told of a practice run."""
    ensure_technical_test(session, minutes, now)
    exam = session.execute(exam_select().where(exams.c.id == TECHNICAL_TEST_ID)).one()
    latest = _latest_attempt(session, TECHNICAL_TEST_ID, account_id)
    if (
        latest is not None
        and latest.submitted_at is None
        and not is_late(latest.ends_at, now, grace)
    ):
        return Started(latest, created=False)
    schedule = schedule_of(exam)
    _check_start(schedule, exam, standing_of(session, account_id), declaration, now)
    number = latest.number + 1 if latest is not None else 1
    attempt = _new_attempt(session, exam, account_id, number, schedule, declaration, now)
    return Started(attempt, created=True)


def _check_start(
    schedule: Schedule,
    exam: Row[Any],
    standing: Standing,
    declaration: Declaration,
    now: datetime,
) -> None:
    refusals = start_refusals(schedule, requirements_of(exam), standing, declaration, now)
    if refusals:
        raise ExamRefusal(
            refusals[0].value,
            unmet=[r.value for r in refusals],
            start_window_minutes=exam.start_window_minutes,
            starts_at=schedule.starts_at,
            start_closes_at=schedule.start_closes_at,
        )


def _resume(session: Session, attempt: Row[Any], now: datetime, grace: timedelta) -> Started:
    if attempt.submitted_at is not None:
        copy_id = session.scalar(select(copies.c.id).where(copies.c.attempt_id == attempt.id))
        raise ExamRefusal("already_submitted", attempt_id=attempt.id, copy_id=copy_id)
    if is_late(attempt.ends_at, now, grace):
        raise ExamRefusal("time_over", attempt_id=attempt.id, ends_at=attempt.ends_at)
    return Started(attempt, created=False)


def _latest_attempt(session: Session, exam_id: uuid.UUID, account_id: uuid.UUID) -> Row[Any] | None:
    query = (
        attempt_select()
        .where(attempts.c.exam_id == exam_id, attempts.c.account_id == account_id)
        .order_by(attempts.c.number.desc())
        .limit(1)
    )
    return session.execute(query).first()


def _new_attempt(
    session: Session,
    exam: Row[Any],
    account_id: uuid.UUID,
    number: int,
    schedule: Schedule,
    declaration: Declaration,
    now: datetime,
) -> Row[Any]:
    attempt_id = uuid.uuid4()
    session.execute(
        insert(attempts).values(
            id=attempt_id,
            exam_id=exam.id,
            account_id=account_id,
            number=number,
            started_at=now,
            ends_at=schedule.ends_at(now),
            display_surface=declaration.display_surface,
            content="",
            revision=0,
            saved_at=None,
            submitted_at=None,
        )
    )
    return own_attempt(session, attempt_id, account_id)
