"""The signed-in candidate's own account: read it, choose the language, change the
password (the current one required, counted like a sign-in; other sessions end)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.runtime.refusals import Refusal
from identity import sessions
from identity.domain import CurrentPasswordIncorrect, PasswordPolicy, SessionEnded
from identity.passwords import Passwords, broken_rules
from identity.recovery import change_password
from identity.store import account_by_id, accounts
from identity.throttle import Reserved, forgive, release


def signed_in(
    session: Session, account_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> Row[Any]:
    """The account of a bearer token whose session is still live: a password change or
    reset ends access at once here, and within the token's life elsewhere."""
    live = sessions.is_live(session, session_id, account_id, now)
    row = account_by_id(session, account_id) if live else None
    if row is None:
        raise SessionEnded()
    return row


def view(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "language": row.language,
        "status": row.status,
        "two_factor": row.two_factor,
        "terms_version": row.terms_version,
        "privacy_version": row.privacy_version,
        "terms_accepted_at": row.terms_accepted_at,
        "activated_at": row.activated_at,
        "password_changed_at": row.password_changed_at,
    }


def set_language(session: Session, account_id: uuid.UUID, language: str) -> Row[Any]:
    session.execute(update(accounts).where(accounts.c.id == account_id).values(language=language))
    changed = account_by_id(session, account_id)
    assert changed is not None
    return changed


def new_password(
    session: Session,
    passwords: Passwords,
    outbox: Outbox,
    *,
    row: Row[Any],
    current: str,
    new: str,
    attempt: Reserved,
    session_id: uuid.UUID,
    now: datetime,
) -> Refusal | None:
    """``attempt`` was counted against the address first (``throttle.count_attempt``). A
    refusal is returned, to be answered once this is committed: a wrong current password
    stays counted, a right one with a new password the policy refuses takes its attempt
    back (which forgives nothing else)."""
    if row.password_hash is None or not passwords.verify(row.password_hash, current):
        return CurrentPasswordIncorrect()
    wrong = broken_rules(new, row.email, names=(row.first_name, row.last_name))
    if wrong:
        release(session, attempt)
        return PasswordPolicy(rules=wrong)
    hashed = passwords.hash(new)
    forgive(session, attempt.key)
    change_password(session, outbox, row, hashed, "change", now, keep=session_id)
    return None
