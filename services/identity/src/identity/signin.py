"""Sign-in in two steps (DESIGN sections 5 and 6): the password, then the code emailed to
the account. Wrong password and unknown address look the same, in answer and in time; every
way in counts its failures against the address's throttle and honours its lock; a right
password forgives nothing (a wrong code after it still counts), a complete sign-in does. A
refresh is no way in: a lock never ends or holds back a session that already stands."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contracts.runtime.errors import ApiError
from identity import challenges, sessions
from identity.activation import resume, steps_of
from identity.context import Context
from identity.messages import say
from identity.refusals import resend_too_soon, too_many_attempts
from identity.steps import record_acceptance
from identity.store import account_by_id, accounts
from identity.throttle import Locked, Reserved, forgive, release, reserve, throttle_key

AMR = ("pwd", "otp")


def _count_attempt(context: Context, email: str, language: str) -> Reserved:
    with context.sessions() as session, session.begin():
        counted = reserve(session, throttle_key(email), context.clock())
    if isinstance(counted, Locked):
        raise too_many_attempts(counted.retry_after, language)
    return counted


def _find(session: Session, email: str) -> Any:
    return session.execute(
        select(accounts).where(accounts.c.email == email.strip().lower())
    ).first()


def start(
    context: Context,
    email: str,
    password: str,
    accepted_terms: dict[str, str] | None,
    language: str,
) -> dict[str, Any]:
    """Check the password; on success email a code and name its challenge."""
    attempt = _count_attempt(context, email, language)
    with context.sessions() as session:
        account = _find(session, email)
    if account is None or account.password_hash is None:
        context.passwords.verify_nothing(password)
        raise ApiError(401, "invalid_credentials", say("invalid_credentials", language))
    if not context.passwords.verify(account.password_hash, password):
        raise ApiError(401, "invalid_credentials", say("invalid_credentials", language))
    language = account.language or language
    with context.sessions() as session, session.begin():
        release(session, attempt)
        if context.passwords.needs_rehash(account.password_hash):
            session.execute(
                update(accounts)
                .where(accounts.c.id == account.id)
                .values(password_hash=context.passwords.hash(password))
            )
        # refusals are raised after the commit: the attempt is released and the
        # activation token must exist
        outcome = _open_challenge(session, context, account, accepted_terms, language)
    if isinstance(outcome, ApiError):
        raise outcome
    return {
        "challenge_id": outcome,
        "method": "email",
        "expires_in": int(challenges.CODE_LIFETIME.total_seconds()),
    }


def _open_challenge(
    session: Session,
    context: Context,
    account: Any,
    accepted_terms: dict[str, str] | None,
    language: str,
) -> uuid.UUID | ApiError:
    now = context.clock()
    if account.status != "active":
        token = resume(session, account.id, now)
        if token is None:
            return ApiError(409, "activation_incomplete", say("activation_unavailable", language))
        return ApiError(
            409,
            "activation_incomplete",
            say("activation_incomplete", language),
            steps=steps_of(account),
            activation_token=token,
        )
    if not context.terms.accepted_by(account.terms_version, account.privacy_version):
        offered = accepted_terms or {}
        if not context.terms.accepted_by(
            offered.get("terms_version"), offered.get("privacy_version")
        ):
            return ApiError(
                409, "terms_outdated", say("terms_outdated", language), **context.terms.as_dict()
            )
        record_acceptance(session, account.id, context, now)
    issued = challenges.issue(
        session, context.codes, account=account, purpose="sign_in", now=now, language=language
    )
    if isinstance(issued, challenges.TooSoon):
        # signing in twice within seconds: the code already on its way is the one
        latest = challenges.latest_open(session, account.id, "sign_in", now)
        return latest or resend_too_soon(issued.retry_after, language)
    return issued


def resend(context: Context, challenge_id: uuid.UUID, language: str) -> dict[str, Any]:
    """A new code for the same sign-in; the previous one stops working."""
    now = context.clock()
    with context.sessions() as session, session.begin():
        account_id = challenges.account_of(session, challenge_id, "sign_in")
        account = (
            account_by_id(session, account_id)
            if account_id is not None
            and challenges.latest_open(session, account_id, "sign_in", now) == challenge_id
            else None
        )
        if account is None:
            raise ApiError(401, "invalid_code", say("invalid_code", language))
        issued = challenges.issue(
            session,
            context.codes,
            account=account,
            purpose="sign_in",
            now=now,
            language=account.language or language,
        )
    if isinstance(issued, challenges.TooSoon):
        raise resend_too_soon(issued.retry_after, language)
    return {
        "challenge_id": issued,
        "method": "email",
        "expires_in": int(challenges.CODE_LIFETIME.total_seconds()),
    }


def finish(
    context: Context, challenge_id: uuid.UUID, code: str, language: str
) -> tuple[sessions.Opened, str]:
    """The emailed code opens a session (and the account's language comes along)."""
    with context.sessions() as session:
        account_id = challenges.account_of(session, challenge_id, "sign_in")
        account = account_by_id(session, account_id) if account_id is not None else None
    if account is None:
        raise ApiError(401, "invalid_code", say("invalid_code", language))
    language = account.language or language
    attempt = _count_attempt(context, account.email, language)
    now = context.clock()
    with context.sessions() as session, session.begin():
        opened = challenges.redeem(
            session, context.codes, challenge_id=challenge_id, purpose="sign_in", code=code, now=now
        )
        if opened:
            forgive(session, attempt.key)
            return sessions.open_session(session, account.id, AMR, now), language
    raise ApiError(401, "invalid_code", say("invalid_code", language))


def refresh(context: Context, refresh_token: str, language: str) -> tuple[sessions.Opened, str]:
    """The session's next tokens. The address's lock is not consulted: it stops new
    sign-ins, and the refresh token (256 random bits) leaves nothing to guess."""
    now = context.clock()
    with context.sessions() as session, session.begin():
        holder = sessions.holder_of(session, refresh_token)
        account = account_by_id(session, holder.account_id) if holder is not None else None
        if account is not None:
            language = account.language or language
        rotated = sessions.rotate(
            session, refresh_token, now, context.refresh_reuse_leeway, outbox=context.outbox
        )
    if rotated is None or account is None:
        raise ApiError(401, "invalid_grant", say("invalid_grant", language))
    return rotated, language


def sign_out(context: Context, session_id: uuid.UUID) -> None:
    with context.sessions() as session, session.begin():
        sessions.revoke(session, session_id, context.clock(), "signed_out", outbox=context.outbox)
