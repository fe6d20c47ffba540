"""Tables of the notifier service and the queries on them.

``outgoing_email`` holds one row per source event (unique), from queued to delivered or
failed. While queued, ``mime`` holds the message as it will be sent, code and links included;
it is wiped when the row reaches its final state, and ``redacted_text`` is what stays for the
operator view. A delivery worker claims due rows by setting ``claimed_until`` (a lease), so
several workers never send the same row at once and a crashed worker's rows come back."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    CursorResult,
    Index,
    Integer,
    LargeBinary,
    RowMapping,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.bus.tables import inbox_table, outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata
from notifier.domain import DELIVERED, FAILED, QUEUED, STATUSES, KnownInvitation

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

OUTGOING = "outgoing_email"

outgoing_email = Table(
    OUTGOING,
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("source_event_id", Uuid, nullable=False, unique=True),
    Column("source_event_type", String(100), nullable=False),
    Column("correlation_id", String(200), nullable=False),
    Column("invitation_id", Uuid, nullable=True),
    Column("kind", String(50), nullable=False),
    Column("language", String(8), nullable=False),
    Column("recipient", String(320), nullable=False),
    #: the address lowercased, for case-insensitive lookups that can use an index
    Column("recipient_key", String(320), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("message_id", String(300), nullable=False),
    Column("mime", LargeBinary, nullable=True),
    Column("redacted_text", Text, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True),
    CheckConstraint(f"status IN {STATUSES!r}", name="status"),
)
DUE_INDEX = "ix_outgoing_email_due"
Index(
    DUE_INDEX,
    outgoing_email.c.priority,
    outgoing_email.c.next_attempt_at,
    postgresql_where=outgoing_email.c.status == QUEUED,
    sqlite_where=outgoing_email.c.status == QUEUED,
)

#: the invitation emails still waiting, found again when their code dies before they are sent
Index(
    "ix_outgoing_email_queued_invitation",
    outgoing_email.c.invitation_id,
    postgresql_where=outgoing_email.c.status == QUEUED,
    sqlite_where=outgoing_email.c.status == QUEUED,
)


#: every invitation the notifier has heard of, with the moments (occurred_at) of its latest
#: InvitationIssued and of the latest event that ended its code (revoke, expiry, activation),
#: whatever order they came in; locked by each handler so one invitation's events take turns
known_invitations = Table(
    "known_invitations",
    metadata,
    Column("invitation_id", Uuid, primary_key=True),
    Column("issued_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
)


# -- queueing -----------------------------------------------------------------------------------


@cache
def _queue_statement(dialect: str) -> Any:
    # built once: constructing a 20-column INSERT per email cost more than sending it
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(outgoing_email).on_conflict_do_nothing(index_elements=["source_event_id"])


def add_many_outgoing(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Queue several emails in one statement; those whose source event already has one are
    skipped."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        session.execute(_queue_statement(dialect), list(rows))
        return
    for values in rows:
        add_outgoing(session, values)


def add_outgoing(session: Session, values: dict[str, Any]) -> bool:
    """Queue one email; False when its source event already has one (a redelivery)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        result = cast(CursorResult[Any], session.execute(_queue_statement(dialect), values))
        return bool(result.rowcount)
    exists = session.scalar(
        select(outgoing_email.c.id).where(
            outgoing_email.c.source_event_id == values["source_event_id"]
        )
    )
    if exists is not None:
        return False
    session.execute(insert(outgoing_email).values(**values))
    return True


# -- the order of an invitation's events -------------------------------------------------------


def lock_invitations(
    session: Session, invitation_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, KnownInvitation]:
    """What is known of each invitation, its row created empty the first time, and locked
    until the transaction ends (in id order, so that two consumers never deadlock)."""
    ids = sorted(set(invitation_ids))
    if not ids:
        return {}
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    t = known_invitations
    session.execute(
        module.insert(t).on_conflict_do_nothing(index_elements=["invitation_id"]),
        [{"invitation_id": invitation_id} for invitation_id in ids],
    )
    rows = session.execute(
        select(t).where(t.c.invitation_id.in_(ids)).order_by(t.c.invitation_id).with_for_update()
    )
    return {row.invitation_id: KnownInvitation(row.issued_at, row.closed_at) for row in rows}


def remember_invitations(session: Session, known: Mapping[uuid.UUID, KnownInvitation]) -> None:
    if known:
        t = known_invitations
        session.execute(
            update(t)
            .where(t.c.invitation_id == bindparam("id"))
            .values(issued_at=bindparam("issued"), closed_at=bindparam("closed")),
            [
                {"id": invitation_id, "issued": moments.issued_at, "closed": moments.closed_at}
                for invitation_id, moments in known.items()
            ],
        )


@dataclass(frozen=True)
class NotSent:
    """An invitation email stopped before it was sent."""

    source_event_id: uuid.UUID
    source_event_type: str
    correlation_id: str
    invitation_id: uuid.UUID
    recipient: str
    message_id: str


def stop_invitation_emails(
    session: Session, invitation_ids: Collection[uuid.UUID], *, now: datetime, reason: str
) -> list[NotSent]:
    """Fail, without sending them, the invitation emails of ``invitation_ids`` still waiting
    (not those a delivery worker holds right now: they are on their way); the message, code
    included, is forgotten."""
    if not invitation_ids:
        return []
    t = outgoing_email
    rows = session.execute(
        update(t)
        .where(
            t.c.invitation_id.in_(sorted(set(invitation_ids))),
            t.c.source_event_type == "InvitationIssued",
            t.c.status == QUEUED,
            or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
        )
        .values(
            status=FAILED,
            failed_at=now,
            last_error=reason[:1000],
            mime=None,
            next_attempt_at=None,
            claimed_until=None,
        )
        .returning(
            t.c.source_event_id,
            t.c.source_event_type,
            t.c.correlation_id,
            t.c.invitation_id,
            t.c.recipient,
            t.c.message_id,
        )
    ).all()
    return [NotSent(**row._asdict()) for row in rows]


# -- delivering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueEmail:
    id: int
    source_event_id: uuid.UUID
    source_event_type: str
    correlation_id: str
    invitation_id: uuid.UUID | None
    kind: str
    priority: int
    recipient: str
    message_id: str
    mime: bytes
    attempts: int
    created_at: datetime


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[DueEmail]:
    """Claim up to ``limit`` due emails, urgent first, until ``now + lease``; on PostgreSQL rows
    another worker is claiming are skipped, not waited for."""
    t = outgoing_email
    due = (
        select(t.c.id)
        .where(
            t.c.status == QUEUED,
            t.c.next_attempt_at <= now,
            or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
        )
        .order_by(t.c.priority, t.c.next_attempt_at, t.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(t)
        .where(t.c.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease)
        .returning(
            t.c.id,
            t.c.source_event_id,
            t.c.source_event_type,
            t.c.correlation_id,
            t.c.invitation_id,
            t.c.kind,
            t.c.priority,
            t.c.recipient,
            t.c.message_id,
            t.c.mime,
            t.c.attempts,
            t.c.created_at,
        )
    ).all()
    claimed = [DueEmail(**(row._asdict() | {"mime": bytes(row.mime)})) for row in rows]
    return sorted(claimed, key=lambda due_email: (due_email.priority, due_email.id))


def release(session: Session, ids: Sequence[int]) -> None:
    """Give back claimed emails that were not tried: due again at once, for any worker."""
    if ids:
        t = outgoing_email
        session.execute(update(t).where(t.c.id.in_(ids)).values(claimed_until=None))


def mark_delivered(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """``rows``: ``{"row_id", "attempts", "at"}``; the message itself is forgotten."""
    _finish(session, rows, status=DELIVERED, sent_at=bindparam("at"))


def mark_failed(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """``rows``: ``{"row_id", "attempts", "at", "error"}``; the message itself is forgotten."""
    _finish(session, rows, status=FAILED, failed_at=bindparam("at"), last_error=bindparam("error"))


def _finish(session: Session, rows: Sequence[dict[str, Any]], **values: Any) -> None:
    if rows:
        t = outgoing_email
        session.execute(
            update(t)
            .where(t.c.id == bindparam("row_id"))
            .values(
                attempts=bindparam("attempts"),
                mime=None,  # no code or token stays once the email is settled
                next_attempt_at=None,
                claimed_until=None,
                **values,
            ),
            list(rows),
        )


def reschedule(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """``rows``: ``{"row_id", "attempts", "error", "retry_at"}``: try again later."""
    if rows:
        t = outgoing_email
        session.execute(
            update(t)
            .where(t.c.id == bindparam("row_id"))
            .values(
                attempts=bindparam("attempts"),
                last_error=bindparam("error"),
                next_attempt_at=bindparam("retry_at"),
                claimed_until=None,
            ),
            list(rows),
        )


# -- the operator view --------------------------------------------------------------------------


def list_deliveries(
    session: Session,
    *,
    email: str | None,
    event_id: uuid.UUID | None,
    before_id: int | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Newest first; ``before_id`` continues a listing after its last row."""
    t = outgoing_email
    query = select(
        t.c.id,
        t.c.source_event_id,
        t.c.source_event_type,
        t.c.kind,
        t.c.invitation_id,
        t.c.recipient,
        t.c.language,
        t.c.subject,
        t.c.message_id,
        t.c.status,
        t.c.attempts,
        t.c.last_error,
        t.c.created_at,
        t.c.next_attempt_at,
        t.c.sent_at,
        t.c.failed_at,
        t.c.redacted_text,
    )
    if email is not None:
        query = query.where(t.c.recipient_key == email.lower())
    if event_id is not None:
        query = query.where(t.c.source_event_id == event_id)
    if before_id is not None:
        query = query.where(t.c.id < before_id)
    return session.execute(query.order_by(t.c.id.desc()).limit(limit)).mappings().all()
