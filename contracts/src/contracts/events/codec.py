"""Turning events into messages and back, with validation against their contract."""

from __future__ import annotations

import uuid
from datetime import UTC
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from contracts.events.envelope import EnvelopeSchema, Event
from contracts.events.schemas import Contract, contract_for, sensitive_fields

REDACTED = "[redacted]"


class ContractViolation(ValueError):
    """A message does not match the envelope or its event's schema."""

    def __init__(self, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.errors = errors


@cache
def _envelope_schema() -> EnvelopeSchema:
    return EnvelopeSchema()


@cache
def _payload_schema(contract: Contract, strict: bool) -> Schema:
    # schema instances are reusable and building one per message was the consumer's main cost
    return contract.schema(unknown=RAISE if strict else EXCLUDE)


def encode(event: Event) -> dict[str, Any]:
    """Validate a producer's event strictly and return the JSON-ready envelope."""
    try:
        contract = contract_for(event.type, event.version)
    except LookupError as exc:
        raise ContractViolation(str(exc)) from None
    if contract.producer != event.producer:
        raise ContractViolation(f"{event.type} is produced by {contract.producer}")
    schema = _payload_schema(contract, strict=True)
    unknown = set(event.data) - set(schema.fields)
    if unknown:
        raise ContractViolation(f"{event.type}: unknown fields", sorted(unknown))
    try:
        wire_data = schema.dump(event.data)
    except (TypeError, ValueError, AttributeError) as exc:  # e.g. a string for a datetime
        raise ContractViolation(f"{event.type}: payload values of the wrong type: {exc}") from None
    errors = schema.validate(wire_data)
    if errors:
        raise ContractViolation(f"{event.type}: invalid payload", errors)
    if event.occurred_at.tzinfo is None:
        raise ContractViolation("occurred_at must carry a time zone")
    event = event.with_correlation()
    envelope = {
        "id": str(event.id),
        "type": event.type,
        "version": event.version,
        "producer": event.producer,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "correlation_id": event.correlation_id,
        "data": wire_data,
    }
    errors = _envelope_schema().validate(envelope)
    if errors:
        raise ContractViolation("invalid envelope", errors)
    return envelope


def decode(body: Any) -> Event:
    """Validate a received envelope and load its payload; unknown payload fields are ignored
    so that additive changes keep the version (DESIGN section 3)."""
    if not isinstance(body, dict):
        raise ContractViolation("message body is not a JSON object")
    try:
        envelope = _envelope_schema().load(body)
    except ValidationError as exc:
        raise ContractViolation("invalid envelope", exc.messages) from None
    try:
        contract = contract_for(envelope["type"], envelope["version"])
    except LookupError as exc:
        raise ContractViolation(str(exc)) from None
    if contract.producer != envelope["producer"]:
        raise ContractViolation(f"{contract.type} is produced by {contract.producer}")
    try:
        data = _payload_schema(contract, strict=False).load(envelope["data"])
    except ValidationError as exc:
        raise ContractViolation(f"{contract.type}: invalid payload", exc.messages) from None
    return Event(
        type=envelope["type"],
        version=envelope["version"],
        producer=envelope["producer"],
        data=data,
        id=envelope["id"],
        occurred_at=envelope["occurred_at"],
        correlation_id=envelope["correlation_id"],
    )


def redact(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of an envelope safe to log or keep: every sensitive field replaced."""
    copy = dict(body)
    data = body.get("data")
    if not isinstance(data, dict):
        return copy
    paths = sensitive_paths(body)
    if paths is None:
        copy["data"] = REDACTED
        return copy
    redacted = _deep_copy(data)
    for path in paths:
        _blank(redacted, path)
    copy["data"] = redacted
    return copy


def sensitive_paths(body: Any) -> list[list[str]] | None:
    """The paths in ``data`` of the sensitive fields of the envelope ``body``'s contract;
    None when it names no known contract."""
    try:
        contract = contract_for(str(body.get("type")), int(body.get("version", 0)))
    except (AttributeError, LookupError, TypeError, ValueError):
        return None
    return _sensitive_paths(contract)


@cache
def _sensitive_paths(contract: Contract) -> list[list[str]]:
    schema = _payload_schema(contract, strict=False)
    return [dotted.split(".") for dotted in sorted(sensitive_fields(schema))]


def event_id_of(body: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(body["id"]))
    except (KeyError, TypeError, ValueError):
        return None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _blank(data: Any, path: list[str]) -> None:
    if not isinstance(data, dict) or path[0] not in data:
        return
    if len(path) == 1:
        if data[path[0]] is not None:
            data[path[0]] = REDACTED
        return
    _blank(data[path[0]], path[1:])
