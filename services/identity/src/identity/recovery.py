"""Forgot and reset password (DESIGN section 5): the same answer whether or not the address
has an account; a link built from PUBLIC_URL with a 256-bit token, 60 minutes, single use;
a reset ends every session and is announced by email; it does not sign anyone in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from identity import sessions, sign_in_methods
from identity.domain import PasswordPolicy, ResetTokenInvalid
from identity.passwords import Passwords, broken_rules
from identity.store import accounts, changed_rows, reset_tokens
from identity.throttle import forgive, throttle_key

RESET_LIFETIME = timedelta(minutes=60)
#: one email per address per minute, however often the form is sent
RESEND_AFTER = timedelta(minutes=1)
RESET_PATH = "/connexion/reset-password"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def forgot(session: Session, outbox: Outbox, email: str) -> None:
    """One event in the outbox, whatever the address: whether an account has it is found
    out by identity's worker (``send_reset_link``), so neither the answer, nor its time,
    nor the writes the request makes tell a known address from an unknown one."""
    outbox.add(session, "PasswordResetAsked", {"email": email.strip().lower()})


def send_reset_link(
    session: Session, outbox: Outbox, public_url: str, email: str, now: datetime
) -> None:
    """A reset link for the active account with this address, if there is one and none was
    sent in the last minute."""
    account = session.execute(
        select(accounts).where(accounts.c.email == email, accounts.c.status == "active")
    ).first()
    if account is None:
        return
    recent = session.scalar(
        select(reset_tokens.c.token_digest).where(
            reset_tokens.c.account_id == account.id,
            reset_tokens.c.created_at > now - RESEND_AFTER,
        )
    )
    if recent is not None:
        return
    token = secrets.token_urlsafe(32)
    expires_at = now + RESET_LIFETIME
    session.execute(
        insert(reset_tokens).values(
            token_digest=_digest(token),
            account_id=account.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    outbox.add(
        session,
        "PasswordResetRequested",
        {
            "account_id": str(account.id),
            "email": account.email,
            "first_name": account.first_name,
            "language": account.language or account.invited_language,
            "reset_url": f"{public_url}{RESET_PATH}?{urlencode({'token': token})}",
            "expires_at": expires_at,
        },
    )


def account_for_reset(session: Session, token: str, now: datetime) -> Row[Any]:
    """The account a reset link's token works for: unused and unexpired."""
    account = session.execute(
        select(accounts)
        .join(reset_tokens, reset_tokens.c.account_id == accounts.c.id)
        .where(
            reset_tokens.c.token_digest == _digest(token),
            reset_tokens.c.used_at.is_(None),
            reset_tokens.c.expires_at > now,
        )
    ).first()
    if account is None:
        raise ResetTokenInvalid()
    return account


def reset(
    session: Session,
    passwords: Passwords,
    outbox: Outbox,
    account: Row[Any],
    token: str,
    password: str,
    now: datetime,
) -> None:
    """The new password of ``account_for_reset``'s account, if its token is still unused."""
    wrong = broken_rules(password, account.email, names=(account.first_name, account.last_name))
    if wrong:
        raise PasswordPolicy(rules=wrong, account_language=account.language)
    hashed = passwords.hash(password)
    claimed = changed_rows(
        session,
        update(reset_tokens)
        .where(reset_tokens.c.token_digest == _digest(token), reset_tokens.c.used_at.is_(None))
        .values(used_at=now),
    )
    if not claimed:
        raise ResetTokenInvalid(account_language=account.language)
    # every other link sent to the account dies with this one
    session.execute(
        update(reset_tokens)
        .where(reset_tokens.c.account_id == account.id, reset_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    forgive(session, throttle_key(account.email))
    change_password(session, outbox, account, hashed, "reset", now)
    if account.password_hash is None:  # a partner's account: a password is a new way in
        sign_in_methods.announce(session, outbox, account.id, now)


def change_password(
    session: Session,
    outbox: Outbox,
    account: Any,
    hashed: str,
    reason: str,
    now: datetime,
    keep: Any = None,
) -> None:
    """The new password, every other session ended, and a notice to the account's owner."""
    session.execute(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(password_hash=hashed, password_changed_at=now)
    )
    sessions.revoke_all(session, account.id, now, f"password_{reason}", keep=keep, outbox=outbox)
    outbox.add(
        session,
        "PasswordChanged",
        {
            "account_id": str(account.id),
            "email": account.email,
            "first_name": account.first_name,
            "language": account.language or account.invited_language,
            "reason": reason,
            "changed_at": now,
        },
    )
