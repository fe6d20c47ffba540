"""Tables of the exams service."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    CursorResult,
    Executable,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.bus.tables import inbox_table, outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

#: keyed by the institution's own reference, so an enrolment may create one before the
#: coordinator does
evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", Uuid, nullable=False),
    Column("ref", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("institution_id", "ref", name="uq_evaluations_institution_ref"),
)

#: exam sessions; the technical test is the one row of kind technical_test, without
#: institution, evaluation or start time
exams = Table(
    "exams",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("institution_id", Uuid, nullable=True),
    Column("evaluation_id", Uuid, ForeignKey("evaluations.id"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=True),
    Column("duration_minutes", Integer, nullable=False),
    Column("start_window_minutes", Integer, nullable=False),
    Column("requires_screen_share", Boolean, nullable=False),
    Column("requires_webcam", Boolean, nullable=False),
    Column("requires_device_check", Boolean, nullable=False),
    Column("requires_technical_test", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_exams_evaluation", exams.c.evaluation_id, exams.c.starts_at)

#: the subject, apart from the exam so that listing exams never reads it
exam_documents = Table(
    "exam_documents",
    metadata,
    Column("exam_id", Uuid, ForeignKey("exams.id"), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_at", UtcDateTime(), nullable=False),
)

#: accounts known from AccountActivated: what a copy's receipt is addressed with
candidates = Table(
    "candidates",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("language", String(2), nullable=False),
    Column("activated_at", UtcDateTime(), nullable=False),
)

#: who may sit an evaluation's exams; account_id stays empty while the address has no
#: known account, and is filled in when its AccountActivated arrives
enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("evaluation_id", Uuid, ForeignKey("evaluations.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("account_id", Uuid, nullable=True),
    Column("enrolled_at", UtcDateTime(), nullable=False),
    UniqueConstraint("evaluation_id", "email", name="uq_enrolments_evaluation_email"),
)
Index("ix_enrolments_account_id", enrolments.c.account_id)
Index("ix_enrolments_email", enrolments.c.email)

#: the latest DeviceValidated of each account
devices = Table(
    "devices",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("check_id", Uuid, nullable=False),
    Column("browser", JSON, nullable=False),
    Column("validated_at", UtcDateTime(), nullable=False),
    Column("valid_until", UtcDateTime(), nullable=False),
)

#: one sitting of an exam by one candidate; ``number`` is always 1 for an exam and counts
#: the technical test's practice runs, so the unique key stops a double start either way
attempts = Table(
    "attempts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("exam_id", Uuid, ForeignKey("exams.id"), nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("display_surface", String(16), nullable=True),
    Column("content", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("saved_at", UtcDateTime(), nullable=True),
    Column("submitted_at", UtcDateTime(), nullable=True),
    UniqueConstraint("exam_id", "account_id", "number", name="uq_attempts_exam_account_number"),
)
Index("ix_attempts_account_id", attempts.c.account_id)
Index("ix_attempts_open", attempts.c.submitted_at, attempts.c.ends_at)

#: a submitted answer, frozen; its sha256 is the candidate's receipt
copies = Table(
    "copies",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("attempt_id", Uuid, ForeignKey("attempts.id"), nullable=False, unique=True),
    Column("exam_id", Uuid, ForeignKey("exams.id"), nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("content", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("late", Boolean, nullable=False),
)
Index("ix_copies_exam_id", copies.c.exam_id, copies.c.submitted_at)
Index("ix_copies_account_id", copies.c.account_id)

#: what the exam page reported during an attempt, with the candidate's clock and ours
proctoring_events = Table(
    "proctoring_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("attempt_id", Uuid, ForeignKey("attempts.id"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("details", JSON, nullable=True),
)
Index(
    "ix_proctoring_events_attempt",
    proctoring_events.c.attempt_id,
    proctoring_events.c.received_at,
)


def changed_rows(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE, INSERT or DELETE touched."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)


def insert_new(session: Session, table: Table, values: dict[str, Any], *keys: str) -> bool:
    """Insert ``values`` unless a row with the same ``keys`` exists; whether it was new.
    Two writers racing for the same key both succeed, one of them inserting."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(table.c[keys[0]])
    )
    # RETURNING, not the row count: through psycopg it came back as -1 for this statement
    return session.execute(statement).first() is not None
