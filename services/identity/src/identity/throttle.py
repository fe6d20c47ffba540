"""Counting failed attempts per sign-in address (DESIGN section 5): 5 free failures, then
delays doubling up to 15 minutes, never a permanent lock.

An attempt is counted as a failure *before* the password or code is checked. Counting
afterwards would let fifty parallel guesses all read "no failures yet" and all be checked;
reserved first, at most five are ever checked before the delay applies. A right password
only takes back its own attempt (``release``): the failures before it, wrong codes
included, stand until a complete sign-in forgives them (``forgive``), or whoever knows a
password would get five fresh guesses at the emailed code with every new challenge."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from identity.domain import TooManyAttempts
from identity.store import changed_rows, throttles

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=2)
LONGEST_DELAY = timedelta(minutes=15)


@dataclass(frozen=True)
class Locked:
    """Refused without checking anything: come back in ``retry_after`` seconds."""

    retry_after: int


@dataclass(frozen=True)
class Reserved:
    """One attempt counted against ``key``; ``locked_until`` is the lock it set, if any."""

    key: str
    locked_until: datetime | None = None


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


def reserve(session: Session, key: str, now: datetime) -> Locked | Reserved:
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
        if delay is None:
            return Reserved(key)
        session.execute(
            update(throttles).where(throttles.c.key == key).values(locked_until=now + delay)
        )
        return Reserved(key, now + delay)
    until = session.scalar(select(throttles.c.locked_until).where(throttles.c.key == key))
    if until is not None and until > now:
        return _retry_after(until, now)
    # RETURNING, not the row count: drivers need not report one for an INSERT (psycopg 3
    # through SQLAlchemy says -1), which counted every first failure twice on PostgreSQL
    if _first_failure(session, key, now):
        return Reserved(key)
    # another attempt created the row between our two statements: count against it
    return reserve(session, key, now)


def count_attempt(
    session: Session, email: str, now: datetime, account_language: str | None = None
) -> Reserved:
    """One attempt counted against ``email``'s address, or TooManyAttempts while it is
    locked. Run it in a transaction of its own, committed before the slow check."""
    counted = reserve(session, throttle_key(email), now)
    if isinstance(counted, Locked):
        raise TooManyAttempts(retry_after=counted.retry_after, account_language=account_language)
    return counted


def check_lock(
    session: Session, email: str, now: datetime, account_language: str | None = None
) -> None:
    """TooManyAttempts while ``email``'s address is locked. For a way in that guesses
    nothing (a sign-in partner's), so counts nothing, but honours the lock all the same."""
    until = session.scalar(
        select(throttles.c.locked_until).where(throttles.c.key == throttle_key(email))
    )
    if until is not None and until > now:
        locked = _retry_after(until, now)
        raise TooManyAttempts(retry_after=locked.retry_after, account_language=account_language)


def _first_failure(session: Session, key: str, now: datetime) -> bool:
    """Insert the address's row with its first failure; whether it was this call's."""
    values = {"key": key, "failures": 1, "locked_until": None, "updated_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(throttles).values(**values).on_conflict_do_nothing()
    return session.execute(insert.returning(throttles.c.key)).first() is not None


def release(session: Session, reserved: Reserved) -> None:
    """A right password: its own attempt was no failure. The failures before it stand, and
    so does any lock that another attempt set; only the lock this attempt set goes."""
    failures = case((throttles.c.failures > 0, throttles.c.failures - 1), else_=0)
    until = (
        throttles.c.locked_until
        if reserved.locked_until is None
        else case(
            (throttles.c.locked_until == reserved.locked_until, null()),
            else_=throttles.c.locked_until,
        )
    )
    session.execute(
        update(throttles)
        .where(throttles.c.key == reserved.key)
        .values(failures=failures, locked_until=until)
    )


def forgive(session: Session, key: str) -> None:
    """A complete sign-in (or a proof as strong): the address starts again with its free
    failures."""
    session.execute(delete(throttles).where(throttles.c.key == key))
