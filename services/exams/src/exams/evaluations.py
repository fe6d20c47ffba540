"""The coordinator's use cases: evaluations, their exams and subjects, and what candidates
did (attempts, proctoring events, copies). Everything is looked up within the caller's
institution, so another institution's exam is simply not found."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.orm import Session

from exams.catalogue import exam_select
from exams.domain import ExamRefusal, Kind, check_document, document_digest
from exams.store import (
    attempts,
    candidates,
    copies,
    enrolments,
    evaluations,
    exam_documents,
    exams,
    insert_new,
    proctoring_events,
)


def put_evaluation(
    session: Session, institution_id: uuid.UUID, ref: str, name: str, now: datetime
) -> tuple[Row[Any], bool]:
    """Create the evaluation or rename it; (the evaluation, whether it is new)."""
    created = insert_new(
        session,
        evaluations,
        {
            "id": uuid.uuid4(),
            "institution_id": institution_id,
            "ref": ref,
            "name": name,
            "created_at": now,
            "updated_at": now,
        },
        "institution_id",
        "ref",
    )
    if not created:
        session.execute(
            update(evaluations)
            .where(evaluations.c.institution_id == institution_id, evaluations.c.ref == ref)
            .values(name=name, updated_at=now)
        )
    return find_evaluation(session, institution_id, ref), created


def find_evaluation(session: Session, institution_id: uuid.UUID, ref: str) -> Row[Any]:
    row = session.execute(
        select(evaluations).where(
            evaluations.c.institution_id == institution_id, evaluations.c.ref == ref
        )
    ).first()
    if row is None:
        raise ExamRefusal("evaluation_not_found")
    return row


def evaluation_exams(session: Session, evaluation_id: uuid.UUID) -> list[Row[Any]]:
    query = exam_select().where(exams.c.evaluation_id == evaluation_id)
    return list(session.execute(query.order_by(exams.c.starts_at, exams.c.id)).all())


def enrolled_count(session: Session, evaluation_id: uuid.UUID) -> int:
    query = select(func.count()).where(enrolments.c.evaluation_id == evaluation_id)
    return int(session.scalar(query) or 0)


def create_exam(
    session: Session, institution_id: uuid.UUID, ref: str, body: dict[str, Any], now: datetime
) -> Row[Any]:
    evaluation = find_evaluation(session, institution_id, ref)
    exam_id = uuid.uuid4()
    requires = body["requires"]
    session.execute(
        insert(exams).values(
            id=exam_id,
            kind=Kind.EXAM.value,
            institution_id=institution_id,
            evaluation_id=evaluation.id,
            title=body["title"],
            starts_at=body["starts_at"],
            duration_minutes=body["duration_minutes"],
            start_window_minutes=body["start_window_minutes"],
            requires_screen_share=requires["screen_share"],
            requires_webcam=requires["webcam"],
            requires_device_check=requires["device_check"],
            requires_technical_test=requires["technical_test"],
            created_at=now,
        )
    )
    return find_exam(session, institution_id, exam_id)


def find_exam(session: Session, institution_id: uuid.UUID, exam_id: uuid.UUID) -> Row[Any]:
    row = session.execute(
        exam_select().where(exams.c.id == exam_id, exams.c.institution_id == institution_id)
    ).first()
    if row is None:
        raise ExamRefusal("exam_not_found")
    return row


def upload_document(
    session: Session,
    institution_id: uuid.UUID,
    exam_id: uuid.UUID,
    data: bytes,
    max_bytes: int,
    now: datetime,
) -> Row[Any]:
    """The exam's subject, replaced freely until a candidate starts: after that, candidates
    would not all have sat the same subject."""
    find_exam(session, institution_id, exam_id)
    check_document(data, max_bytes)
    started = select(attempts.c.id).where(attempts.c.exam_id == exam_id).limit(1)
    if session.scalar(started) is not None:
        raise ExamRefusal("exam_already_started")
    values = {
        "content": data,
        "size": len(data),
        "sha256": document_digest(data),
        "uploaded_at": now,
    }
    if not insert_new(session, exam_documents, {"exam_id": exam_id, **values}, "exam_id"):
        session.execute(
            update(exam_documents).where(exam_documents.c.exam_id == exam_id).values(**values)
        )
    return find_exam(session, institution_id, exam_id)


def copies_of(session: Session, institution_id: uuid.UUID, exam_id: uuid.UUID) -> list[Row[Any]]:
    find_exam(session, institution_id, exam_id)
    query = (
        _copy_select()
        .where(copies.c.exam_id == exam_id)
        .order_by(copies.c.submitted_at, copies.c.id)
    )
    return list(session.execute(query).all())


def copy_of(
    session: Session, institution_id: uuid.UUID, exam_id: uuid.UUID, copy_id: uuid.UUID
) -> Row[Any]:
    find_exam(session, institution_id, exam_id)
    row = session.execute(
        _copy_select(copies.c.content).where(copies.c.exam_id == exam_id, copies.c.id == copy_id)
    ).first()
    if row is None:
        raise ExamRefusal("copy_not_found")
    return row


def _copy_select(*extra: Any) -> Any:
    return select(
        copies.c.id,
        copies.c.attempt_id,
        copies.c.exam_id,
        copies.c.account_id,
        copies.c.sha256,
        copies.c.revision,
        copies.c.submitted_at,
        copies.c.late,
        candidates.c.email,
        candidates.c.first_name,
        candidates.c.last_name,
        *extra,
    ).select_from(copies.outerjoin(candidates, candidates.c.account_id == copies.c.account_id))


def attempts_of(session: Session, institution_id: uuid.UUID, exam_id: uuid.UUID) -> list[Row[Any]]:
    """The exam's attempts, each with its candidate and how many events it reported."""
    find_exam(session, institution_id, exam_id)
    reported = (
        select(proctoring_events.c.attempt_id, func.count().label("events"))
        .group_by(proctoring_events.c.attempt_id)
        .subquery()
    )
    query: Select[Any] = (
        select(
            attempts.c.id,
            attempts.c.account_id,
            attempts.c.started_at,
            attempts.c.ends_at,
            attempts.c.display_surface,
            attempts.c.revision,
            attempts.c.saved_at,
            attempts.c.submitted_at,
            candidates.c.email,
            candidates.c.first_name,
            candidates.c.last_name,
            func.coalesce(reported.c.events, 0).label("events"),
        )
        .select_from(
            attempts.outerjoin(
                candidates, candidates.c.account_id == attempts.c.account_id
            ).outerjoin(reported, reported.c.attempt_id == attempts.c.id)
        )
        .where(attempts.c.exam_id == exam_id)
        .order_by(attempts.c.started_at, attempts.c.id)
    )
    return list(session.execute(query).all())


def events_of(
    session: Session, institution_id: uuid.UUID, exam_id: uuid.UUID, attempt_id: uuid.UUID
) -> list[Row[Any]]:
    find_exam(session, institution_id, exam_id)
    attempt = select(attempts.c.id).where(
        attempts.c.id == attempt_id, attempts.c.exam_id == exam_id
    )
    if session.scalar(attempt) is None:
        raise ExamRefusal("attempt_not_found")
    query = (
        select(proctoring_events)
        .where(proctoring_events.c.attempt_id == attempt_id)
        .order_by(proctoring_events.c.received_at, proctoring_events.c.occurred_at)
    )
    return list(session.execute(query).all())


def candidate_view(row: Row[Any]) -> dict[str, Any]:
    return {
        "account_id": row.account_id,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
    }
