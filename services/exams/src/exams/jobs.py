"""The worker's periodic job: copies of the attempts left open past their time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock
from contracts.runtime.worker import PeriodicJob
from exams.attempts import close_overdue


def close_overdue_attempts(
    sessions: sessionmaker[Session], outbox: Outbox, clock: Clock, grace: timedelta
) -> int:
    closed = 0
    while True:
        with sessions() as session, session.begin():
            count = close_overdue(session, outbox, clock(), grace)
        closed += count
        if count == 0:
            return closed


def jobs(
    sessions: sessionmaker[Session], outbox: Outbox, clock: Clock, grace: timedelta
) -> list[PeriodicJob]:
    return [
        # every 15 s: a forgotten attempt gets its copy and receipt within a minute of its end
        PeriodicJob(
            "overdue-attempts", 15, lambda: close_overdue_attempts(sessions, outbox, clock, grace)
        ),
    ]
