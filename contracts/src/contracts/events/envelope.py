"""The event envelope shared by every message on the bus (DESIGN section 3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Za-z]+\Z"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    producer = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+\Z"))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class Event:
    """One event as it travels: envelope fields plus the validated payload."""

    type: str
    version: int
    producer: str
    data: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = ""

    @property
    def routing_key(self) -> str:
        return f"{self.producer}.{self.type}"

    def with_correlation(self) -> Event:
        if self.correlation_id:
            return self
        return Event(
            type=self.type,
            version=self.version,
            producer=self.producer,
            data=self.data,
            id=self.id,
            occurred_at=self.occurred_at,
            correlation_id=str(self.id),
        )
