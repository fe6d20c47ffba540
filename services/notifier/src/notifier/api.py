"""The operator's view of deliveries: ``GET /api/v1/deliveries`` by address or by event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import RowMapping
from sqlalchemy.orm import Session, sessionmaker

from contracts.events.clock import Clock
from contracts.runtime.auth import require_role
from contracts.runtime.cursor import bad_cursor, decode_cursor, encode_cursor
from contracts.runtime.errors import ApiError
from contracts.runtime.refusals import Refusal
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from notifier import delivery
from notifier.config import Settings
from notifier.schemas import DeliveryPageSchema, DeliveryQuerySchema

OPERATOR = "operator"
#: ids are BIGINT on PostgreSQL
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Context:
    """What the notifier's views are given."""

    sessions: sessionmaker[Session]
    clock: Clock
    settings: Settings


def answer(refusal: Refusal) -> ApiError:
    """The operator's view refuses nothing of its own: a refusal reaching it is a bug."""
    raise TypeError(f"the notifier's views have no answer for the refusal {refusal.code!r}")


def last_id(cursor: str) -> int:
    """The id of the last row the cursor's page gave."""
    (value,) = decode_cursor(cursor, int)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    raise bad_cursor()


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
        cursor = args.get("cursor")
        before_id = last_id(cursor) if cursor is not None else None
        context = current_context(Context)
        page = in_transaction(
            context.sessions,
            lambda session: delivery.list_deliveries(
                session,
                email=args.get("email"),
                event_id=args.get("event_id"),
                before_id=before_id,
                limit=int(args["limit"]),
            ),
            answer=answer,
        )
        return {
            "items": [_item(row) for row in page.rows],
            "next_cursor": encode_cursor(page.last_id) if page.last_id is not None else None,
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
        "created_at": row["created_at"],
        "next_attempt_at": row["next_attempt_at"],
        "sent_at": row["sent_at"],
        "failed_at": row["failed_at"],
        "text": row["redacted_text"],
    }
