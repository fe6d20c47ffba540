"""The outbox and inbox tables, added by each service to its own metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Uuid,
)

OUTBOX = "bus_outbox"
INBOX = "bus_inbox"


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, always in UTC and always aware, on SQLite (which keeps no offset) as on
    PostgreSQL. Naive values are refused: they are a bug waiting for a time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def outbox_columns() -> list[Column[object]]:
    return [
        Column(
            "position",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("routing_key", String(200), nullable=False),
        Column("body", JSON, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
    ]


def inbox_columns() -> list[Column[object]]:
    return [
        Column("event_id", Uuid, primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("handled_at", UtcDateTime(), nullable=False),
    ]


def outbox_table(metadata: MetaData) -> Table:
    if OUTBOX in metadata.tables:
        return metadata.tables[OUTBOX]
    table = Table(OUTBOX, metadata, *outbox_columns())
    Index(
        "ix_bus_outbox_unsent",
        table.c.position,
        postgresql_where=table.c.sent_at.is_(None),
        sqlite_where=table.c.sent_at.is_(None),
    )
    return table


def inbox_table(metadata: MetaData) -> Table:
    if INBOX in metadata.tables:
        return metadata.tables[INBOX]
    return Table(INBOX, metadata, *inbox_columns())
