"""The worker's periodic jobs: issuing waiting roster rows, and the expiry sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from contracts.runtime.worker import PeriodicJob
from invitations.batches import process_pending_rows
from invitations.service import Issuer

Clock = Callable[[], datetime]


def issue_waiting_rows(sessions: sessionmaker[Session], issuer: Issuer, clock: Clock) -> int:
    """Drain the waiting rows, one committed chunk at a time, so progress shows as it goes."""
    done = 0
    while True:
        with sessions() as session, session.begin():
            count = process_pending_rows(session, issuer, clock())
        done += count
        if count == 0:
            return done


def expire_due_invitations(sessions: sessionmaker[Session], issuer: Issuer, clock: Clock) -> int:
    expired = 0
    while True:
        with sessions() as session, session.begin():
            count = issuer.expire_due(session, clock())
        expired += count
        if count == 0:
            return expired


def jobs(sessions: sessionmaker[Session], issuer: Issuer, clock: Clock) -> list[PeriodicJob]:
    return [
        PeriodicJob("roster-rows", 0.2, lambda: issue_waiting_rows(sessions, issuer, clock)),
        # a sweep every 15 s keeps CodeExpired well within a minute of expires_at
        PeriodicJob("expiry-sweep", 15, lambda: expire_due_invitations(sessions, issuer, clock)),
    ]
