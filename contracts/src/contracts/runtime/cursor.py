"""One cursor format for every paged list: the sort key of the last row given, opaque to
the caller. A cursor this API did not give out is a 400 ``bad_cursor``."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from contracts.runtime.errors import ApiError

#: what a cursor may carry, and how each is read back
Key = str | int | datetime | uuid.UUID
_READERS: dict[type, Any] = {
    str: str,
    int: int,
    datetime: datetime.fromisoformat,
    uuid.UUID: uuid.UUID,
}
MAX_LENGTH = 200


def encode_cursor(*key: Key) -> str:
    wire = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    text = json.dumps([str(v) if isinstance(v, uuid.UUID) else v for v in wire])
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """The key ``encode_cursor`` wrote, each part read back as ``kinds`` says."""
    try:
        if len(cursor) > MAX_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(_READERS[kind](part) for kind, part in zip(kinds, parts, strict=True))
    except (ValueError, TypeError, KeyError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise bad_cursor() from None


def bad_cursor() -> ApiError:
    """The answer to a cursor this API did not give out, or one that points nowhere."""
    return ApiError(400, "bad_cursor", "This cursor is not valid; start from the first page.")
