"""Tables of the invitations service, and the queries its use cases call."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.bus.tables import inbox_table, outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata
from invitations.domain import STANDING, Status

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", Uuid, nullable=False),
    Column("email", String(320), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("language", String(2), nullable=False),
    Column("evaluation_ref", String(100), nullable=False),
    Column("evaluation_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("code_digest", String(64), nullable=True, unique=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("email_status", String(16), nullable=False),
    Column("email_error", Text, nullable=True),
    Column("last_event_id", Uuid, nullable=False),
    Column("batch_id", Uuid, ForeignKey("batches.id"), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
_standing = invitations.c.status.in_([s.value for s in STANDING])
# one standing invitation per person and evaluation; revoked or expired ones may be renewed
Index(
    "uq_invitations_standing",
    invitations.c.institution_id,
    invitations.c.email,
    invitations.c.evaluation_ref,
    unique=True,
    postgresql_where=_standing,
    sqlite_where=_standing,
)
Index("ix_invitations_listing", invitations.c.institution_id, invitations.c.created_at)
Index("ix_invitations_email", invitations.c.email)
Index("ix_invitations_due", invitations.c.status, invitations.c.expires_at)

batches = Table(
    "batches",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", Uuid, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("issued", Integer, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("rejected", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
)

batch_rows = Table(
    "batch_rows",
    metadata,
    Column("batch_id", Uuid, ForeignKey("batches.id"), primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("invitation_id", Uuid, nullable=True),
)
Index("ix_batch_rows_pending", batch_rows.c.outcome, batch_rows.c.batch_id)

#: addresses that have an active account, projected from AccountActivated
activated_addresses = Table(
    "activated_addresses",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("activated_at", UtcDateTime(), nullable=False),
)

#: how each account signs in, projected from SignInMethodsChanged: the latest change by
#: ``changed_at``, kept even before the account's AccountActivated arrives
sign_in_methods = Table(
    "sign_in_methods",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("methods", String(40), nullable=False),  # sorted, space separated
    Column("changed_at", UtcDateTime(), nullable=False),
)


# -- invitations -------------------------------------------------------------------------------


def standing_among(
    session: Session, institution_id: uuid.UUID, emails: Iterable[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The standing invitations of these addresses, by (email, evaluation)."""
    rows = session.execute(
        select(invitations).where(
            invitations.c.institution_id == institution_id,
            invitations.c.email.in_(list(emails)),
            _standing,
        )
    )
    return {(r.email, r.evaluation_ref): dict(r._mapping) for r in rows}


def with_accounts_among(session: Session, emails: Iterable[str]) -> set[str]:
    """Those of these addresses that have an active account."""
    return set(
        session.scalars(
            select(activated_addresses.c.email).where(activated_addresses.c.email.in_(list(emails)))
        )
    )


def has_account(session: Session, email: str) -> bool:
    known = select(activated_addresses.c.email).where(activated_addresses.c.email == email)
    return session.scalar(known) is not None


def add_invitations(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(invitations), list(rows))


def find_invitation(
    session: Session,
    institution_id: uuid.UUID,
    invitation_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Row[Any] | None:
    query = select(invitations).where(
        invitations.c.id == invitation_id, invitations.c.institution_id == institution_id
    )
    if for_update:
        query = query.with_for_update()
    return session.execute(query).first()


def page_of_invitations(
    session: Session,
    institution_id: uuid.UUID,
    *,
    status: str | None = None,
    evaluation: str | None = None,
    email: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Row[Any]]:
    """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
    query = select(invitations).where(invitations.c.institution_id == institution_id)
    if status:
        query = query.where(invitations.c.status == status)
    if evaluation:
        query = query.where(invitations.c.evaluation_ref == evaluation)
    if email:
        query = query.where(invitations.c.email == email)
    if after is not None:
        created, last_id = after
        query = query.where(
            or_(
                invitations.c.created_at < created,
                and_(invitations.c.created_at == created, invitations.c.id < last_id),
            )
        )
    query = query.order_by(invitations.c.created_at.desc(), invitations.c.id.desc()).limit(limit)
    return list(session.execute(query).all())


def is_replaced(session: Session, row: Row[Any]) -> bool:
    """Whether another standing invitation exists for the same person and evaluation."""
    other = session.scalar(
        select(invitations.c.id)
        .where(
            invitations.c.institution_id == row.institution_id,
            invitations.c.email == row.email,
            invitations.c.evaluation_ref == row.evaluation_ref,
            invitations.c.id != row.id,
            _standing,
        )
        .limit(1)
    )
    return other is not None


def update_invitation(session: Session, invitation_id: uuid.UUID, **values: Any) -> Row[Any]:
    return session.execute(
        update(invitations)
        .where(invitations.c.id == invitation_id)
        .values(**values)
        .returning(invitations)
    ).one()


def claim_due(session: Session, now: datetime, limit: int) -> list[Any]:
    """Pending invitations whose time has come, claimed with SKIP LOCKED, so several
    sweepers never take one twice."""
    return list(
        session.execute(
            select(invitations.c.id, invitations.c.institution_id, invitations.c.email)
            .where(invitations.c.status == Status.PENDING.value, invitations.c.expires_at <= now)
            .order_by(invitations.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def mark_expired(session: Session, invitation_ids: Sequence[uuid.UUID], now: datetime) -> None:
    if invitation_ids:
        session.execute(
            update(invitations)
            .where(invitations.c.id.in_(list(invitation_ids)))
            .values(status=Status.EXPIRED.value, code_digest=None, updated_at=now)
        )


def remember_account(
    session: Session, email: str, account_id: uuid.UUID, activated_at: datetime
) -> None:
    """Remember an address with an active account, once."""
    if not has_account(session, email):
        session.execute(
            insert(activated_addresses).values(
                email=email, account_id=account_id, activated_at=activated_at
            )
        )


def record_sign_in_methods(
    session: Session, account_id: uuid.UUID, methods: Sequence[str], changed_at: datetime
) -> None:
    """How an account signs in as of ``changed_at``, unless a later change is recorded."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    new = dialect.insert(sign_in_methods).values(
        account_id=account_id, methods=" ".join(methods), changed_at=changed_at
    )
    session.execute(
        new.on_conflict_do_update(
            index_elements=[sign_in_methods.c.account_id],
            set_={"methods": new.excluded.methods, "changed_at": new.excluded.changed_at},
            where=sign_in_methods.c.changed_at <= new.excluded.changed_at,
        )
    )


def sign_in_methods_of(session: Session, emails: Iterable[str]) -> dict[str, list[str]]:
    """How the active accounts of these addresses sign in, by address."""
    rows = session.execute(
        select(activated_addresses.c.email, sign_in_methods.c.methods)
        .join(sign_in_methods, sign_in_methods.c.account_id == activated_addresses.c.account_id)
        .where(activated_addresses.c.email.in_(list(emails)))
    )
    return {row.email: row.methods.split() for row in rows}


def usable_for_update(session: Session, invitation_id: uuid.UUID) -> Row[Any] | None:
    """The invitation whose code may still activate an account (pending or expired)."""
    return session.execute(
        select(invitations)
        .where(
            invitations.c.id == invitation_id,
            invitations.c.status.in_([Status.PENDING.value, Status.EXPIRED.value]),
        )
        .with_for_update()
    ).first()


def pending_of_address(session: Session, email: str) -> list[Row[Any]]:
    return list(
        session.execute(
            select(invitations)
            .where(invitations.c.email == email, invitations.c.status == Status.PENDING.value)
            .with_for_update()
        ).all()
    )


def record_email_status(
    session: Session,
    invitation_id: uuid.UUID,
    source_event_id: uuid.UUID,
    *,
    status: str,
    error: str | None,
    unless_status: str | None,
    now: datetime,
) -> None:
    """The email status of an invitation whose latest email is ``source_event_id``."""
    which = [
        invitations.c.id == invitation_id,
        invitations.c.last_event_id == source_event_id,
    ]
    if unless_status is not None:
        which.append(invitations.c.email_status != unless_status)
    session.execute(
        update(invitations)
        .where(*which)
        .values(email_status=status, email_error=error, updated_at=now)
    )


# -- batches -----------------------------------------------------------------------------------


def add_batch(session: Session, batch: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    session.execute(insert(batches).values(**batch))
    if rows:
        session.execute(insert(batch_rows), list(rows))


def claim_waiting_rows(session: Session, limit: int) -> list[Any]:
    """Waiting roster rows, oldest batch first, claimed with SKIP LOCKED, so several workers
    share the work."""
    return list(
        session.execute(
            select(
                batch_rows.c.batch_id,
                batch_rows.c.row_number,
                batch_rows.c.payload,
                batches.c.institution_id,
            )
            .join(batches, batches.c.id == batch_rows.c.batch_id)
            .where(batch_rows.c.outcome.is_(None))
            .order_by(batches.c.created_at, batch_rows.c.batch_id, batch_rows.c.row_number)
            .limit(limit)
            .with_for_update(skip_locked=True, of=batch_rows)
        ).all()
    )


def record_row_outcomes(
    session: Session, batch_id: uuid.UUID, outcomes: Iterable[tuple[int, str, uuid.UUID]]
) -> None:
    """(row number, outcome, invitation id) of rows of one batch."""
    session.connection().execute(
        update(batch_rows)
        .where(
            batch_rows.c.batch_id == bindparam("b_batch"),
            batch_rows.c.row_number == bindparam("b_row"),
        )
        .values(outcome=bindparam("b_outcome"), invitation_id=bindparam("b_invitation")),
        [
            {"b_batch": batch_id, "b_row": row, "b_outcome": outcome, "b_invitation": invitation}
            for row, outcome, invitation in outcomes
        ],
    )


def count_progress(session: Session, batch_id: uuid.UUID, processed: int, **counts: int) -> None:
    session.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            processed=batches.c.processed + processed,
            **{name: batches.c[name] + count for name, count in counts.items()},
        )
    )


def rows_waiting(session: Session, batch_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(batch_rows)
            .where(batch_rows.c.batch_id == batch_id, batch_rows.c.outcome.is_(None))
        )
        or 0
    )


def complete_batch(session: Session, batch_id: uuid.UUID, status: str, now: datetime) -> None:
    session.execute(
        update(batches).where(batches.c.id == batch_id).values(status=status, completed_at=now)
    )


def find_batch(session: Session, institution_id: uuid.UUID, batch_id: uuid.UUID) -> Row[Any] | None:
    return session.execute(
        select(batches).where(batches.c.id == batch_id, batches.c.institution_id == institution_id)
    ).first()
