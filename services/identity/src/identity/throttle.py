"""Counting failed attempts per sign-in address (DESIGN section 5): 5 free failures, then
delays doubling up to 15 minutes, never a permanent lock.

An attempt is counted as a failure *before* the password or code is checked and forgiven
when it succeeds. Counting afterwards would let fifty parallel guesses all read "no
failures yet" and all be checked; reserved first, at most five are ever checked before
the delay applies."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from identity.store import changed_rows, throttles

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=2)
LONGEST_DELAY = timedelta(minutes=15)


@dataclass(frozen=True)
class Locked:
    """Refused without checking anything: come back in ``retry_after`` seconds."""

    retry_after: int


def throttle_key(email: str) -> str:
    """Addresses are counted whether or not an account exists, so a lock reveals nothing."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def delay_after(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    doubled: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(doubled, LONGEST_DELAY)


def _retry_after(locked_until: datetime, now: datetime) -> Locked:
    return Locked(max(1, math.ceil((locked_until - now).total_seconds())))


def reserve(session: Session, key: str, now: datetime) -> Locked | None:
    """Count one attempt for ``key``, or say how long it is locked. Call in a transaction of
    its own and commit before the slow check, so the row lock is held only for this. The
    first statement writes, so SQLite takes its write lock at once instead of failing to
    upgrade a read lock when two attempts meet."""
    counted = changed_rows(
        session,
        update(throttles)
        .where(
            throttles.c.key == key,
            or_(throttles.c.locked_until.is_(None), throttles.c.locked_until <= now),
        )
        .values(failures=throttles.c.failures + 1, updated_at=now),
    )
    if counted:
        failures = session.scalar(select(throttles.c.failures).where(throttles.c.key == key))
        delay = delay_after(failures or 0)
        if delay is not None:
            session.execute(
                update(throttles).where(throttles.c.key == key).values(locked_until=now + delay)
            )
        return None
    until = session.scalar(select(throttles.c.locked_until).where(throttles.c.key == key))
    if until is not None and until > now:
        return _retry_after(until, now)
    # RETURNING, not the row count: drivers need not report one for an INSERT (psycopg 3
    # through SQLAlchemy says -1), which counted every first failure twice on PostgreSQL
    if _first_failure(session, key, now):
        return None
    # another attempt created the row between our two statements: count against it
    return reserve(session, key, now)


def _first_failure(session: Session, key: str, now: datetime) -> bool:
    """Insert the address's row with its first failure; whether it was this call's."""
    values = {"key": key, "failures": 1, "locked_until": None, "updated_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(throttles).values(**values).on_conflict_do_nothing()
    return session.execute(insert.returning(throttles.c.key)).first() is not None


def forgive(session: Session, key: str) -> None:
    """A success: the address starts again with its free failures."""
    session.execute(delete(throttles).where(throttles.c.key == key))


def locked(session: Session, key: str, now: datetime) -> Locked | None:
    """Whether ``key`` is locked now, without counting anything (refresh honours the lock)."""
    until = session.scalar(select(throttles.c.locked_until).where(throttles.c.key == key))
    return _retry_after(until, now) if until is not None and until > now else None
