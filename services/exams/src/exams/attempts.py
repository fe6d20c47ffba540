"""The running attempt: its subject, autosaved answers, proctoring events and the copy it
ends with. Each use case takes the session, the outbox and the time as arguments and leaves
committing to its caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from exams.domain import (
    ExamRefusal,
    Kind,
    accepts_answers_until,
    answer_digest,
    check_writable,
    is_late,
)
from exams.store import (
    attempts,
    candidates,
    changed_rows,
    copies,
    evaluations,
    exam_documents,
    exams,
    proctoring_events,
)


@dataclass(frozen=True)
class Submitted:
    copy: Row[Any]
    created: bool


def attempt_select() -> Select[Any]:
    return select(
        attempts,
        exams.c.kind,
        exams.c.title,
        exams.c.institution_id,
        evaluations.c.ref.label("evaluation_ref"),
        evaluations.c.name.label("evaluation_name"),
    ).select_from(
        attempts.join(exams, exams.c.id == attempts.c.exam_id).outerjoin(
            evaluations, evaluations.c.id == exams.c.evaluation_id
        )
    )


def own_attempt(session: Session, attempt_id: uuid.UUID, account_id: uuid.UUID) -> Row[Any]:
    """The candidate's own attempt; anyone else's does not exist for them."""
    row = session.execute(
        attempt_select().where(attempts.c.id == attempt_id, attempts.c.account_id == account_id)
    ).first()
    if row is None:
        raise ExamRefusal("attempt_not_found")
    return row


def subject_of(
    session: Session, attempt_id: uuid.UUID, account_id: uuid.UUID, now: datetime, grace: timedelta
) -> Row[Any]:
    """The subject, readable while the attempt accepts answers."""
    attempt = own_attempt(session, attempt_id, account_id)
    check_writable(attempt.ends_at, attempt.submitted_at is not None, now, grace)
    query: Select[Any] = select(exam_documents.c.content, exam_documents.c.sha256).where(
        exam_documents.c.exam_id == attempt.exam_id
    )
    document = session.execute(query).first()
    if document is None:
        raise ExamRefusal("document_not_available")
    return document


def save_answer(
    session: Session,
    attempt_id: uuid.UUID,
    account_id: uuid.UUID,
    content: str,
    revision: int,
    now: datetime,
    grace: timedelta,
    max_bytes: int,
) -> Row[Any]:
    """Save over ``revision``, the one the page last saw; a page that saw an older one (a
    second tab, another device) is told the current revision instead of overwriting it."""
    attempt = own_attempt(session, attempt_id, account_id)
    check_writable(attempt.ends_at, attempt.submitted_at is not None, now, grace)
    if len(content.encode("utf-8")) > max_bytes:
        raise ExamRefusal("answer_too_large", max_bytes=max_bytes)
    saved = changed_rows(
        session,
        update(attempts)
        .where(
            attempts.c.id == attempt.id,
            attempts.c.revision == revision,
            attempts.c.submitted_at.is_(None),
        )
        .values(content=content, revision=attempts.c.revision + 1, saved_at=now),
    )
    current = own_attempt(session, attempt_id, account_id)
    if saved:
        return current
    if current.submitted_at is not None:
        raise ExamRefusal("already_submitted")
    if current.content == content:  # a retry of a save that went through: nothing is lost
        return current
    raise ExamRefusal("stale_revision", revision=current.revision, saved_at=current.saved_at)


def record_event(
    session: Session,
    attempt_id: uuid.UUID,
    account_id: uuid.UUID,
    body: dict[str, Any],
    now: datetime,
    max_events: int,
) -> Row[Any]:
    """Kept whenever it arrives: a page that was offline reports what happened meanwhile,
    possibly after the end."""
    attempt = own_attempt(session, attempt_id, account_id)
    count = session.scalar(select(func.count()).where(proctoring_events.c.attempt_id == attempt.id))
    if (count or 0) >= max_events:
        raise ExamRefusal("too_many_events", max_events=max_events)
    event_id = uuid.uuid4()
    session.execute(
        insert(proctoring_events).values(
            id=event_id,
            attempt_id=attempt.id,
            type=body["type"],
            occurred_at=body["occurred_at"],
            received_at=now,
            details=body.get("details"),
        )
    )
    return session.execute(
        select(proctoring_events).where(proctoring_events.c.id == event_id)
    ).one()


def submit(
    session: Session,
    outbox: Outbox,
    attempt_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
    grace: timedelta,
) -> Submitted:
    return close_attempt(session, outbox, own_attempt(session, attempt_id, account_id), now, grace)


def close_attempt(
    session: Session, outbox: Outbox, attempt: Row[Any], now: datetime, grace: timedelta
) -> Submitted:
    """Freeze the last saved answer into a copy, once: a second submit finds the first copy.
    After the end and its grace the copy is still made, from the answer saved in time (later
    saves were refused), and marked late."""
    frozen = session.execute(
        update(attempts)
        .where(attempts.c.id == attempt.id, attempts.c.submitted_at.is_(None))
        .values(submitted_at=now)
        .returning(attempts.c.content, attempts.c.revision, attempts.c.ends_at)
    ).first()
    if frozen is None:
        copy = session.execute(select(copies).where(copies.c.attempt_id == attempt.id)).one()
        return Submitted(copy, created=False)
    copy_id = uuid.uuid4()
    session.execute(
        insert(copies).values(
            id=copy_id,
            attempt_id=attempt.id,
            exam_id=attempt.exam_id,
            account_id=attempt.account_id,
            content=frozen.content,
            revision=frozen.revision,
            sha256=answer_digest(frozen.content),
            submitted_at=now,
            late=is_late(frozen.ends_at, now, grace),
        )
    )
    copy = session.execute(select(copies).where(copies.c.id == copy_id)).one()
    if attempt.kind == Kind.EXAM.value:
        _announce_copy(session, outbox, attempt, copy)
    return Submitted(copy, created=True)


def _announce_copy(session: Session, outbox: Outbox, attempt: Row[Any], copy: Row[Any]) -> None:
    candidate = session.execute(
        select(candidates).where(candidates.c.account_id == attempt.account_id)
    ).one()
    outbox.add(
        session,
        "CopySubmitted",
        {
            "copy_id": copy.id,
            "attempt_id": attempt.id,
            "exam_id": attempt.exam_id,
            "exam_title": attempt.title,
            "institution_id": attempt.institution_id,
            "account_id": attempt.account_id,
            "email": candidate.email,
            "first_name": candidate.first_name,
            "language": candidate.language,
            "sha256": copy.sha256,
            "submitted_at": copy.submitted_at,
        },
    )


def close_overdue(
    session: Session, outbox: Outbox, now: datetime, grace: timedelta, limit: int = 100
) -> int:
    """Make the copies of exam attempts left open past their end and grace (a closed tab, a
    lost connection), so that every started exam ends with a copy and a receipt. Practice
    runs are left as they are. Rows are claimed with SKIP LOCKED, so sweepers never collide."""
    due = session.execute(
        attempt_select()
        .where(
            attempts.c.submitted_at.is_(None),
            attempts.c.ends_at < now - grace,
            exams.c.kind == Kind.EXAM.value,
        )
        .order_by(attempts.c.ends_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=attempts)
    ).all()
    for attempt in due:
        close_attempt(session, outbox, attempt, now, grace)
    return len(due)


def attempt_view(attempt: Row[Any], grace: timedelta) -> dict[str, Any]:
    return {
        "attempt_id": attempt.id,
        "exam_id": attempt.exam_id,
        "kind": attempt.kind,
        "title": attempt.title,
        "started_at": attempt.started_at,
        "ends_at": attempt.ends_at,
        "accepts_answers_until": accepts_answers_until(attempt.ends_at, grace),
        "revision": attempt.revision,
        "saved_at": attempt.saved_at,
        "submitted_at": attempt.submitted_at,
    }
