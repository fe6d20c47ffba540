"""Sign-in sessions and their refresh tokens (DESIGN section 5): a session ends 12 hours
after sign-in whatever happens; each refresh token works once and is replaced; an old one
presented again means it was stolen, and the whole session ends. Except within a short
leeway of its rotation: two requests of one browser (the exam page sends two events at once
on a tab switch) present the same token at refresh time, and both must keep working."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from identity.store import changed_rows, refresh_tokens, sign_in_sessions

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Opened:
    session_id: uuid.UUID
    account_id: uuid.UUID
    refresh_token: str
    expires_at: datetime
    amr: tuple[str, ...]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(session: Session, session_id: uuid.UUID, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.execute(
        insert(refresh_tokens).values(
            token_digest=_digest(token), session_id=session_id, created_at=now
        )
    )
    return token


def open_session(
    session: Session, account_id: uuid.UUID, amr: tuple[str, ...], now: datetime
) -> Opened:
    session_id = uuid.uuid4()
    expires_at = now + SESSION_LIFETIME
    session.execute(
        insert(sign_in_sessions).values(
            id=session_id,
            account_id=account_id,
            amr=" ".join(amr),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return Opened(
        session_id, account_id, _new_refresh_token(session, session_id, now), expires_at, amr
    )


def holder_of(session: Session, refresh_token: str) -> Row[Any] | None:
    """The session a refresh token was given to, whatever the state of either."""
    return session.execute(
        select(sign_in_sessions, refresh_tokens.c.used_at.label("token_used_at"))
        .join(refresh_tokens, refresh_tokens.c.session_id == sign_in_sessions.c.id)
        .where(refresh_tokens.c.token_digest == _digest(refresh_token))
    ).first()


def rotate(
    session: Session,
    refresh_token: str,
    now: datetime,
    leeway: timedelta = timedelta(0),
    *,
    outbox: Outbox,
) -> Opened | None:
    """The session's next refresh token, or None. A token used before revokes its session,
    unless it was used no more than ``leeway`` ago: then it is the same browser racing
    itself, and this request gets a refresh token of its own in the same session."""
    found = holder_of(session, refresh_token)
    if found is None:
        return None
    if found.revoked_at is not None or found.expires_at <= now:
        return None
    claimed = changed_rows(
        session,
        update(refresh_tokens)
        .where(
            refresh_tokens.c.token_digest == _digest(refresh_token),
            refresh_tokens.c.used_at.is_(None),
        )
        .values(used_at=now),
    )
    if not claimed and not _within_leeway(session, refresh_token, now, leeway):
        revoke(session, found.id, now, "refresh_token_reused", outbox=outbox)
        return None
    return Opened(
        found.id,
        found.account_id,
        _new_refresh_token(session, found.id, now),
        found.expires_at,
        tuple(found.amr.split()),
    )


def _within_leeway(session: Session, refresh_token: str, now: datetime, leeway: timedelta) -> bool:
    # read again: the request that used it may have committed after our first read
    used_at = session.scalar(
        select(refresh_tokens.c.used_at).where(
            refresh_tokens.c.token_digest == _digest(refresh_token)
        )
    )
    return used_at is not None and leeway > timedelta(0) and now - used_at <= leeway


def revoke(
    session: Session, session_id: uuid.UUID, now: datetime, reason: str, *, outbox: Outbox
) -> None:
    _end(session, outbox, sign_in_sessions.c.id == session_id, now, reason)


def revoke_all(
    session: Session,
    account_id: uuid.UUID,
    now: datetime,
    reason: str,
    keep: uuid.UUID | None = None,
    *,
    outbox: Outbox,
) -> None:
    which = sign_in_sessions.c.account_id == account_id
    if keep is not None:
        which = and_(which, sign_in_sessions.c.id != keep)
    _end(session, outbox, which, now, reason)


def _end(
    session: Session, outbox: Outbox, which: ColumnElement[bool], now: datetime, reason: str
) -> None:
    """End the sessions ``which`` picks and announce those still in their 12 hours as
    SessionsEnded, in the same transaction: whatever ends a session, the gateway hears of it
    and refuses its access tokens within seconds."""
    ended = session.execute(
        update(sign_in_sessions)
        .where(which, sign_in_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(
            sign_in_sessions.c.id, sign_in_sessions.c.account_id, sign_in_sessions.c.expires_at
        )
    ).all()
    by_account: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in ended:
        if row.expires_at > now:  # a session past its 12 hours has no valid token left
            by_account.setdefault(row.account_id, []).append(row.id)
    for account_id, session_ids in by_account.items():
        outbox.add(
            session,
            "SessionsEnded",
            {
                "account_id": account_id,
                "session_ids": sorted(session_ids),
                "reason": reason,
                "ended_at": now,
            },
        )


def ended_since(session: Session, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """The sessions ended before their 12 hours at ``since`` or later, as (id, when)."""
    rows = session.execute(
        select(sign_in_sessions.c.id, sign_in_sessions.c.revoked_at)
        .where(
            sign_in_sessions.c.revoked_at >= since,
            sign_in_sessions.c.expires_at > sign_in_sessions.c.revoked_at,
        )
        .order_by(sign_in_sessions.c.revoked_at)
    )
    return [(row.id, row.revoked_at) for row in rows]


def is_live(session: Session, session_id: uuid.UUID, account_id: uuid.UUID, now: datetime) -> bool:
    return (
        session.scalar(
            select(sign_in_sessions.c.id).where(
                sign_in_sessions.c.id == session_id,
                sign_in_sessions.c.account_id == account_id,
                sign_in_sessions.c.revoked_at.is_(None),
                sign_in_sessions.c.expires_at > now,
            )
        )
        is not None
    )
