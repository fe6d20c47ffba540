"""The operator's view of deliveries: ``GET /api/v1/deliveries`` by address or by event."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import RowMapping

from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError
from contracts.runtime.service import ServiceRuntime
from notifier import store
from notifier.schemas import DeliveryPageSchema, DeliveryQuerySchema

OPERATOR = "operator"
#: ids are BIGINT on PostgreSQL
MAX_ID = 2**63 - 1


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"d{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if raw[:1] == "d" and raw[1:].isdigit() and raw[1:].isascii() and 0 < int(raw[1:]) <= MAX_ID:
        return int(raw[1:])
    raise ApiError(400, "invalid_cursor", "The cursor is not one this API gave out.")


def deliveries_blueprint() -> Blueprint:
    blp = Blueprint(
        "deliveries",
        __name__,
        url_prefix="/api/v1/deliveries",
        description="Emails the platform sent or tried to send (operators only).",
    )

    @blp.route("")
    @require_role(OPERATOR)  # above the arguments: no token, no look at the parameters
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    @blp.alt_response(400, description="The cursor is not valid")
    @blp.alt_response(401, description="No valid bearer token")
    @blp.alt_response(403, description="The token does not carry the operator role")
    def list_deliveries(args: dict[str, Any]) -> dict[str, Any]:
        """Deliveries, newest first, by recipient address and/or source event; codes,
        tokens and the links that carry them are redacted."""
        limit = int(args["limit"])
        cursor = args.get("cursor")
        runtime: ServiceRuntime = current_app.extensions["nexam.runtime"]
        with runtime.sessions() as session:
            rows = store.list_deliveries(
                session,
                email=args.get("email"),
                event_id=args.get("event_id"),
                before_id=decode_cursor(cursor) if cursor is not None else None,
                limit=limit + 1,
            )
        page = rows[:limit]
        more = len(rows) > limit
        return {
            "items": [_item(row) for row in page],
            "next_cursor": encode_cursor(page[-1]["id"]) if more else None,
        }

    return blp


def _item(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "event_id": row["source_event_id"],
        "event_type": row["source_event_type"],
        "kind": row["kind"],
        "invitation_id": row["invitation_id"],
        "recipient": row["recipient"],
        "language": row["language"],
        "subject": row["subject"],
        "message_id": row["message_id"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "created_at": store.utc(row["created_at"]),
        "next_attempt_at": store.utc(row["next_attempt_at"]),
        "sent_at": store.utc(row["sent_at"]),
        "failed_at": store.utc(row["failed_at"]),
        "text": row["redacted_text"],
    }
