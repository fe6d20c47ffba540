"""Writing events in the same database transaction as the state change they announce."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, Table, insert
from sqlalchemy.orm import Session

from contracts.bus.tables import outbox_table
from contracts.codec import encode
from contracts.envelope import Event


class Outbox:
    def __init__(self, metadata: MetaData, producer: str) -> None:
        self.table: Table = outbox_table(metadata)
        self.producer = producer

    def add(
        self,
        session: Session,
        event_type: str,
        data: dict[str, object],
        *,
        version: int = 1,
        correlation_id: str = "",
    ) -> Event:
        """Validate the event against its contract and stage it in ``session``'s transaction."""
        event = Event(
            type=event_type,
            version=version,
            producer=self.producer,
            data=data,
            correlation_id=correlation_id,
        ).with_correlation()
        body = encode(event)
        session.execute(
            insert(self.table).values(
                event_id=event.id,
                routing_key=event.routing_key,
                body=body,
                created_at=datetime.now(UTC),
            )
        )
        return event
