"""Alembic operations creating the bus tables, for each service's first migration."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contracts.bus.tables import INBOX, OUTBOX, inbox_columns, outbox_columns


def create_outbox(op: Any) -> None:
    op.create_table(OUTBOX, *outbox_columns())
    op.create_index(
        "ix_bus_outbox_unsent",
        OUTBOX,
        ["position"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )


def create_inbox(op: Any) -> None:
    op.create_table(INBOX, *inbox_columns())


def drop_outbox(op: Any) -> None:
    op.drop_index("ix_bus_outbox_unsent", table_name=OUTBOX)
    op.drop_table(OUTBOX)


def drop_inbox(op: Any) -> None:
    op.drop_table(INBOX)
