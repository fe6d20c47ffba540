"""Tables of the identity service."""

from __future__ import annotations

from sqlalchemy import MetaData

from contracts.bus.tables import inbox_table, outbox_table

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
