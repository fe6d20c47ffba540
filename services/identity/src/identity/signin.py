"""Sign-in in two steps (DESIGN sections 5 and 6): the password, then the code emailed to
the account. Wrong password and unknown address look the same, in answer and in time; every
way in counts its failures against the address's throttle (``throttle.count_attempt``, in a
transaction of its own) and honours its lock; a right password forgives nothing (a wrong code
after it still counts), a complete sign-in does. A refresh is no way in: a lock never ends or
holds back a session that already stands.

Where a refusal must not undo what was written before it (a tried code, a released attempt, a
resumed activation), the use case returns the refusal instead of raising it: the view commits,
then refuses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.runtime.refusals import Refusal
from identity import challenges, sessions
from identity.activation import resume
from identity.challenges import OneTimeCodes
from identity.domain import (
    ActivationIncomplete,
    ActivationUnavailable,
    InvalidCredentials,
    InvalidGrant,
    ResendTooSoon,
    SignInCodeInvalid,
    TermsOutdated,
    steps_of,
)
from identity.passwords import Passwords
from identity.steps import record_acceptance
from identity.store import account_by_id, accounts
from identity.terms import Terms
from identity.throttle import Reserved, forgive, release

AMR = ("pwd", "otp")


def find_account(session: Session, email: str) -> Row[Any] | None:
    return session.execute(
        select(accounts).where(accounts.c.email == email.strip().lower())
    ).first()


def check_password(passwords: Passwords, account: Row[Any] | None, password: str) -> Row[Any]:
    """The account whose password this is, or InvalidCredentials, after as long a check
    when there is no such account."""
    if account is None or account.password_hash is None:
        passwords.verify_nothing(password)
        raise InvalidCredentials()
    if not passwords.verify(account.password_hash, password):
        raise InvalidCredentials()
    return account


def open_challenge(
    session: Session,
    *,
    codes: OneTimeCodes,
    passwords: Passwords,
    terms: Terms,
    account: Row[Any],
    password: str,
    accepted_terms: dict[str, str] | None,
    attempt: Reserved,
    now: datetime,
    caller_language: str,
) -> uuid.UUID | Refusal:
    """After a right password: its attempt released, a code emailed, its challenge named. A
    refusal is returned, to be answered once this is committed: the attempt stays released
    and a resumed activation's token exists."""
    release(session, attempt)
    if passwords.needs_rehash(account.password_hash):
        session.execute(
            update(accounts)
            .where(accounts.c.id == account.id)
            .values(password_hash=passwords.hash(password))
        )
    language = account.language
    not_ready = ready_to_sign_in(session, terms, account, accepted_terms, now)
    if not_ready is not None:
        return not_ready
    issued = challenges.issue(
        session,
        codes,
        account=account,
        purpose="sign_in",
        now=now,
        language=language or caller_language,
    )
    if isinstance(issued, challenges.TooSoon):
        # signing in twice within seconds: the code already on its way is the one
        latest = challenges.latest_open(session, account.id, "sign_in", now)
        return latest or ResendTooSoon(retry_after=issued.retry_after, account_language=language)
    return issued


def ready_to_sign_in(
    session: Session,
    terms: Terms,
    account: Row[Any],
    accepted_terms: dict[str, str] | None,
    now: datetime,
) -> Refusal | None:
    """What stops a proven account from opening a session, whatever proved it: an activation
    left half done (resumed: the refusal carries a token for it), or terms changed since it
    accepted them (accepted now when this sign-in offers the versions in force). Returned,
    not raised: the resumed activation's token must be committed."""
    language = account.language
    if account.status != "active":
        token = resume(session, account.id, now)
        if token is None:
            return ActivationUnavailable(account_language=language)
        return ActivationIncomplete(
            steps=steps_of(account), activation_token=token, account_language=language
        )
    if not terms.accepted_by(account.terms_version, account.privacy_version):
        offered = accepted_terms or {}
        if not terms.accepted_by(offered.get("terms_version"), offered.get("privacy_version")):
            return TermsOutdated(**terms.as_dict(), account_language=language)
        record_acceptance(session, account.id, terms, now)
    return None


def resend(
    session: Session,
    codes: OneTimeCodes,
    challenge_id: uuid.UUID,
    now: datetime,
    caller_language: str,
) -> uuid.UUID:
    """A new code for the same sign-in; the previous one stops working."""
    account_id = challenges.account_of(session, challenge_id, "sign_in")
    account = (
        account_by_id(session, account_id)
        if account_id is not None
        and challenges.latest_open(session, account_id, "sign_in", now) == challenge_id
        else None
    )
    if account is None:
        raise SignInCodeInvalid()
    issued = challenges.issue(
        session,
        codes,
        account=account,
        purpose="sign_in",
        now=now,
        language=account.language or caller_language,
    )
    if isinstance(issued, challenges.TooSoon):
        raise ResendTooSoon(retry_after=issued.retry_after)
    return issued


def code_holder(session: Session, challenge_id: uuid.UUID) -> Row[Any]:
    """The account a sign-in challenge was sent to."""
    account_id = challenges.account_of(session, challenge_id, "sign_in")
    account = account_by_id(session, account_id) if account_id is not None else None
    if account is None:
        raise SignInCodeInvalid()
    return account


def finish(
    session: Session,
    codes: OneTimeCodes,
    *,
    account: Row[Any],
    challenge_id: uuid.UUID,
    code: str,
    attempt: Reserved,
    now: datetime,
) -> sessions.Opened | SignInCodeInvalid:
    """The emailed code opens a session. A wrong code is returned as a refusal: its try on
    the challenge must be committed before it is answered."""
    opened = challenges.redeem(
        session, codes, challenge_id=challenge_id, purpose="sign_in", code=code, now=now
    )
    if not opened:
        return SignInCodeInvalid(account_language=account.language)
    forgive(session, attempt.key)
    return sessions.open_session(session, account.id, AMR, now)


def refresh(
    session: Session, outbox: Outbox, refresh_token: str, now: datetime, leeway: timedelta
) -> tuple[sessions.Opened, str | None] | InvalidGrant:
    """The session's next tokens and its account's language. The address's lock is not
    consulted: it stops new sign-ins, and the refresh token (256 random bits) leaves nothing
    to guess. A refusal is returned: a reused token's session ends, and that must be
    committed."""
    holder = sessions.holder_of(session, refresh_token)
    account = account_by_id(session, holder.account_id) if holder is not None else None
    rotated = sessions.rotate(session, refresh_token, now, leeway, outbox=outbox)
    if rotated is None or account is None:
        return InvalidGrant(account_language=account.language if account is not None else None)
    return rotated, account.language


def sign_out(session: Session, outbox: Outbox, session_id: uuid.UUID, now: datetime) -> None:
    sessions.revoke(session, session_id, now, "signed_out", outbox=outbox)
