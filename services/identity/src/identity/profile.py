"""The signed-in candidate's own account: read it, choose the language, change the
password (the current one required, counted like a sign-in; other sessions end)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, update

from contracts.runtime.errors import ApiError
from identity.context import Context
from identity.messages import say
from identity.passwords import violations
from identity.recovery import change_password
from identity.refusals import password_policy, too_many_attempts
from identity.store import account_by_id, accounts
from identity.throttle import Locked, forgive, release, reserve, throttle_key


def account(context: Context, account_id: uuid.UUID) -> Row[Any] | None:
    with context.sessions() as session:
        return account_by_id(session, account_id)


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


def set_language(context: Context, account_id: uuid.UUID, language: str) -> None:
    with context.sessions() as session, session.begin():
        session.execute(
            update(accounts).where(accounts.c.id == account_id).values(language=language)
        )


def new_password(
    context: Context, row: Row[Any], current: str, new: str, session_id: uuid.UUID
) -> None:
    language = row.language or "en"
    key = throttle_key(row.email)
    with context.sessions() as session, session.begin():
        counted = reserve(session, key, context.clock())
    if isinstance(counted, Locked):
        raise too_many_attempts(counted.retry_after, language)
    if row.password_hash is None or not context.passwords.verify(row.password_hash, current):
        raise ApiError(
            400, "current_password_incorrect", say("current_password_incorrect", language)
        )
    wrong = violations(new, row.email, language, names=(row.first_name, row.last_name))
    if wrong:
        # the current password was right, which forgives nothing else
        with context.sessions() as session, session.begin():
            release(session, counted)
        raise password_policy(wrong, language)
    hashed = context.passwords.hash(new)
    with context.sessions() as session, session.begin():
        forgive(session, key)
        change_password(session, context, row, hashed, "change", keep=session_id)
