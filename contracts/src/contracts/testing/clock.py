"""A clock a test sets and moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: where a test's clock starts unless it says otherwise
START = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)


class TestClock:
    __test__ = False  # not a pytest test class

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment
