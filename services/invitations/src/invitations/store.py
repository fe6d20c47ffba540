"""Tables of the invitations service."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from contracts.bus.tables import inbox_table, outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata
from invitations.domain import STANDING

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
