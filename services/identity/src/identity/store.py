"""Tables of the identity service."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Uuid

from contracts.bus.tables import inbox_table, outbox_table
from contracts.web.database import UtcDateTime, service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

institutions = Table(
    "institutions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("institution_id", Uuid, ForeignKey("institutions.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("secret_rotated_at", UtcDateTime(), nullable=False),
)
