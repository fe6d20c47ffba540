"""Events for tests, made from the contracts' golden examples."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.events.examples import load_example


def example_event(event_type: str, version: int = 1, **data: Any) -> Event:
    """The golden example of ``event_type`` with a fresh id and ``data`` changed, validated and
    decoded as a consumer would be handed it. Values may be given as Python objects (UUIDs,
    datetimes): they are written as the wire carries them before validation."""
    body = load_example(event_type, version)
    body["id"] = str(uuid.uuid4())
    body["correlation_id"] = body["id"]
    body["data"].update({key: _wire(value) for key, value in data.items()})
    return decode(body)


def with_data(event: Event, **data: Any) -> Event:
    """``event`` with ``data`` changed as given, without validation: for a test that hands a
    handler what the contract would refuse."""
    return dataclasses.replace(event, data=event.data | data)


def _wire(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
