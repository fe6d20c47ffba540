"""One-time codes sent by email (DESIGN section 5): 6 digits, 10 minutes, 5 wrong tries
then dead, single use, a new one kills the previous one, resend no sooner than 30 s."""

from __future__ import annotations

import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from identity.store import challenges, changed_rows

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class OneTimeCodes:
    """What issuing and checking codes needs: the key of their digests, and the outbox
    through which each code is emailed."""

    key: bytes
    outbox: Outbox


@dataclass(frozen=True)
class TooSoon:
    retry_after: int


def _digest(key: bytes, challenge_id: uuid.UUID, code: str) -> str:
    # keyed and bound to its challenge: a million codes are no secret without the key, and a
    # code is worth nothing on another challenge
    return hmac.new(key, f"{challenge_id}:{code}".encode(), "sha256").hexdigest()


def issue(
    session: Session,
    codes: OneTimeCodes,
    *,
    account: Row[Any],
    purpose: str,
    now: datetime,
    language: str,
) -> uuid.UUID | TooSoon:
    """A new code for ``account``, emailed through TwoFactorCodeRequested; every earlier
    code of the same purpose stops working."""
    # a code that was used, or tried five times, does not hold the next one back (the
    # address's throttle bounds how often that can happen)
    latest = session.scalar(
        select(challenges.c.created_at)
        .where(
            challenges.c.account_id == account.id,
            challenges.c.purpose == purpose,
            challenges.c.used_at.is_(None),
            challenges.c.attempts < MAX_TRIES,
        )
        .order_by(challenges.c.created_at.desc())
        .limit(1)
    )
    if latest is not None and now - latest < RESEND_AFTER:
        return TooSoon(max(1, math.ceil((latest + RESEND_AFTER - now).total_seconds())))
    session.execute(
        update(challenges)
        .where(
            challenges.c.account_id == account.id,
            challenges.c.purpose == purpose,
            challenges.c.used_at.is_(None),
            challenges.c.expires_at > now,
        )
        .values(expires_at=now)
    )
    challenge_id = uuid.uuid4()
    code = f"{secrets.randbelow(1_000_000):06d}"
    expires_at = now + CODE_LIFETIME
    session.execute(
        insert(challenges).values(
            id=challenge_id,
            account_id=account.id,
            purpose=purpose,
            code_digest=_digest(codes.key, challenge_id, code),
            attempts=0,
            created_at=now,
            expires_at=expires_at,
        )
    )
    codes.outbox.add(
        session,
        "TwoFactorCodeRequested",
        {
            "account_id": str(account.id),
            "email": account.email,
            "first_name": account.first_name,
            "language": language,
            "purpose": purpose,
            "code": code,
            "expires_at": expires_at,
        },
    )
    return challenge_id


def account_of(session: Session, challenge_id: uuid.UUID, purpose: str) -> uuid.UUID | None:
    return session.scalar(
        select(challenges.c.account_id).where(
            challenges.c.id == challenge_id, challenges.c.purpose == purpose
        )
    )


def latest_open(
    session: Session, account_id: uuid.UUID, purpose: str, now: datetime
) -> uuid.UUID | None:
    return session.scalar(
        select(challenges.c.id).where(
            challenges.c.account_id == account_id,
            challenges.c.purpose == purpose,
            challenges.c.used_at.is_(None),
            challenges.c.expires_at > now,
            challenges.c.attempts < MAX_TRIES,
        )
    )


def redeem(
    session: Session,
    codes: OneTimeCodes,
    *,
    challenge_id: uuid.UUID,
    purpose: str,
    code: str,
    now: datetime,
) -> bool:
    """Whether ``code`` opens the challenge, which it then closes. Each try is counted before
    it is compared (one statement), so parallel guesses share the same five tries."""
    tried = changed_rows(
        session,
        update(challenges)
        .where(
            challenges.c.id == challenge_id,
            challenges.c.purpose == purpose,
            challenges.c.used_at.is_(None),
            challenges.c.expires_at > now,
            challenges.c.attempts < MAX_TRIES,
        )
        .values(attempts=challenges.c.attempts + 1),
    )
    if not tried:
        return False
    expected = session.scalar(
        select(challenges.c.code_digest).where(challenges.c.id == challenge_id)
    )
    typed = "".join(code.split())
    if expected is None or not hmac.compare_digest(
        expected, _digest(codes.key, challenge_id, typed)
    ):
        return False
    return bool(
        changed_rows(
            session,
            update(challenges)
            .where(challenges.c.id == challenge_id, challenges.c.used_at.is_(None))
            .values(used_at=now),
        )
    )
