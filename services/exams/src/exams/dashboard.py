"""The candidate's dashboard: upcoming exams with what each still needs, submitted copies,
the technical test and the device check."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from exams.catalogue import exam_select, exam_view, requirements_of, schedule_of
from exams.domain import (
    TECHNICAL_TEST_ID,
    Kind,
    Standing,
    is_late,
    missing_preparations,
)
from exams.starts import standing_of
from exams.store import attempts, copies, devices, enrolments, exams


def dashboard(
    session: Session, account_id: uuid.UUID, now: datetime, grace: timedelta
) -> dict[str, Any]:
    standing = standing_of(session, account_id)
    enrolled = select(enrolments.c.evaluation_id).where(enrolments.c.account_id == account_id)
    rows = session.execute(
        exam_select()
        .where(exams.c.kind == Kind.EXAM.value, exams.c.evaluation_id.in_(enrolled))
        .order_by(exams.c.starts_at, exams.c.id)
    ).all()
    own = {
        a.exam_id: a
        for a in session.execute(
            select(attempts).where(
                attempts.c.account_id == account_id,
                attempts.c.exam_id.in_([r.id for r in rows]),
            )
        )
    }
    upcoming = [
        _upcoming(row, own.get(row.id), standing, now, grace)
        for row in rows
        if _still_ahead(row, own.get(row.id), now, grace)
    ]
    device = session.execute(select(devices).where(devices.c.account_id == account_id)).first()
    return {
        "upcoming_exams": upcoming,
        "submitted_copies": _copies(session, account_id),
        "technical_test": {
            "required": any(e["requires"]["technical_test"] for e in upcoming),
            "done": standing.technical_test_done,
            "exam_id": TECHNICAL_TEST_ID,
        },
        "device": {
            "validated": standing.device_valid_at(now),
            "validated_at": device.validated_at if device else None,
            "valid_until": device.valid_until if device else None,
        },
    }


def _still_ahead(exam: Row[Any], attempt: Row[Any] | None, now: datetime, grace: timedelta) -> bool:
    """Not submitted, and either still startable or started and running."""
    if attempt is None:
        return schedule_of(exam).window_not_over(now)
    return attempt.submitted_at is None and not is_late(attempt.ends_at, now, grace)


def _upcoming(
    exam: Row[Any], attempt: Row[Any] | None, standing: Standing, now: datetime, grace: timedelta
) -> dict[str, Any]:
    schedule = schedule_of(exam)
    # a device check that will have lapsed by the start is already missing
    at = max(now, schedule.starts_at) if schedule.starts_at else now
    missing = [m.value for m in missing_preparations(requirements_of(exam), standing, at)]
    view = exam_view(exam)
    del view["kind"], view["created_at"]
    view["document_available"] = view.pop("document") is not None
    return {
        **view,
        "missing": missing,
        "can_start_now": attempt is not None or (schedule.window_open(now) and not missing),
        "attempt": (
            {"attempt_id": attempt.id, "ends_at": attempt.ends_at} if attempt is not None else None
        ),
    }


def _copies(session: Session, account_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            copies.c.id,
            copies.c.exam_id,
            copies.c.sha256,
            copies.c.submitted_at,
            copies.c.late,
            exams.c.title,
        )
        .select_from(copies.join(exams, exams.c.id == copies.c.exam_id))
        .where(copies.c.account_id == account_id, exams.c.kind == Kind.EXAM.value)
        .order_by(copies.c.submitted_at.desc(), copies.c.id)
    ).all()
    return [
        {
            "copy_id": r.id,
            "exam_id": r.exam_id,
            "exam_title": r.title,
            "sha256": r.sha256,
            "submitted_at": r.submitted_at,
            "late": r.late,
        }
        for r in rows
    ]
