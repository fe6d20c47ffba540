"""The worker's periodic jobs: issuing waiting roster rows, and the expiry sweep."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock
from contracts.runtime.worker import PeriodicJob
from invitations.batches import process_pending_rows
from invitations.issuing import Issuing, expire_invitations


def issue_waiting_rows(sessions: sessionmaker[Session], issuing: Issuing, clock: Clock) -> int:
    """Drain the waiting rows, one committed chunk at a time, so progress shows as it goes."""
    done = 0
    while True:
        with sessions() as session, session.begin():
            count = process_pending_rows(session, issuing, clock())
        done += count
        if count == 0:
            return done


def expire_due_invitations(sessions: sessionmaker[Session], outbox: Outbox, clock: Clock) -> int:
    expired = 0
    while True:
        with sessions() as session, session.begin():
            count = expire_invitations(session, outbox, clock())
        expired += count
        if count == 0:
            return expired


def jobs(sessions: sessionmaker[Session], issuing: Issuing, clock: Clock) -> list[PeriodicJob]:
    outbox = issuing.outbox
    return [
        PeriodicJob("roster-rows", 0.2, lambda: issue_waiting_rows(sessions, issuing, clock)),
        # a sweep every 15 s keeps CodeExpired well within a minute of expires_at
        PeriodicJob("expiry-sweep", 15, lambda: expire_due_invitations(sessions, outbox, clock)),
    ]
