"""Moments on the platform are aware datetimes in UTC: every event's ``occurred_at``, every
expiry. Whatever needs the time takes a ``Clock``, so that a test can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
