"""Writing events in the same database transaction as the state change they announce.
A field marked sensitive is sealed before the row is written (DESIGN section 5): an outbox
with no sealer refuses an event that holds one, rather than store it in clear."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, Table, insert
from sqlalchemy.orm import Session

from contracts.bus.sealing import Sealer, carries_secret, seal_sensitive
from contracts.bus.tables import outbox_table
from contracts.events.codec import ContractViolation, encode
from contracts.events.envelope import Event


class Outbox:
    def __init__(self, metadata: MetaData, producer: str, *, sealer: Sealer | None = None) -> None:
        self.table: Table = outbox_table(metadata)
        self.producer = producer
        self.sealer = sealer

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
        (event,) = self.add_many(session, [(event_type, data, correlation_id)], version=version)
        return event

    def add_many(
        self,
        session: Session,
        events: Sequence[tuple[str, dict[str, Any], str]],
        *,
        version: int = 1,
    ) -> list[Event]:
        """Stage several (type, data, correlation id) at once: each validated against its
        contract, all written with one multi-row INSERT."""
        staged = [
            Event(
                type=event_type,
                version=version,
                producer=self.producer,
                data=data,
                correlation_id=correlation_id,
            ).with_correlation()
            for event_type, data, correlation_id in events
        ]
        if not staged:
            return []
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": event.id,
                "routing_key": event.routing_key,
                "body": self._sealed(encode(event)),
                "created_at": now,
            }
            for event in staged
        ]
        session.execute(insert(self.table), rows)
        return staged

    def _sealed(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.sealer is not None:
            return seal_sensitive(body, self.sealer)
        if carries_secret(body):
            raise ContractViolation(
                f"{body['type']} holds a sensitive field: this outbox needs a sealer"
            )
        return body
