"""The activation steps after the code, in their order (DESIGN section 6): password,
language, terms and privacy, two-factor by email. A step is open once every step before it
is done; done steps may be done again until the last one completes the activation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.orm import Session

from contracts.runtime.errors import ApiError
from identity import challenges
from identity.activation import STEPS, done_steps
from identity.context import LANGUAGES, Context
from identity.messages import say
from identity.passwords import violations
from identity.refusals import invalid_code, password_policy, resend_too_soon, too_many_attempts
from identity.store import accounts, activation_tokens, activations
from identity.throttle import Locked, forgive, reserve, throttle_key


def require_open(account: Row[Any], step: str, language: str) -> None:
    """409 when a step before ``step`` is not done yet."""
    done = done_steps(account)
    missing = [s for s in STEPS[: STEPS.index(step)] if s not in done]
    if missing:
        raise ApiError(
            409, "step_out_of_order", say("step_out_of_order", language), missing=missing
        )


def set_password(context: Context, account: Row[Any], password: str, language: str) -> None:
    require_open(account, "password", language)
    names = (account.first_name, account.last_name)
    wrong = violations(password, account.email, language, names=names)
    if wrong:
        raise password_policy(wrong, language)
    hashed = context.passwords.hash(password)
    with context.sessions() as session, session.begin():
        session.execute(
            update(accounts)
            .where(accounts.c.id == account.id)
            .values(password_hash=hashed, password_changed_at=context.clock())
        )


def set_language(context: Context, account: Row[Any], chosen: str, language: str) -> None:
    require_open(account, "language", language)
    assert chosen in LANGUAGES
    with context.sessions() as session, session.begin():
        session.execute(update(accounts).where(accounts.c.id == account.id).values(language=chosen))


def accept_terms(
    context: Context, account: Row[Any], terms_version: str, privacy_version: str, language: str
) -> None:
    require_open(account, "terms", language)
    if not context.terms.accepted_by(terms_version, privacy_version):
        raise ApiError(
            409, "terms_outdated", say("terms_outdated", language), **context.terms.as_dict()
        )
    with context.sessions() as session, session.begin():
        record_acceptance(session, account.id, context, context.clock())


def record_acceptance(
    session: Session, account_id: uuid.UUID, context: Context, now: datetime
) -> None:
    session.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            terms_version=context.terms.terms_version,
            privacy_version=context.terms.privacy_version,
            terms_accepted_at=now,
        )
    )


def send_code(context: Context, account: Row[Any], language: str) -> uuid.UUID:
    require_open(account, "two_factor", language)
    with context.sessions() as session, session.begin():
        issued = challenges.issue(
            session,
            context.codes,
            account=account,
            purpose="activation",
            now=context.clock(),
            language=account.language or language,
        )
    if isinstance(issued, challenges.TooSoon):
        raise resend_too_soon(issued.retry_after, language)
    return issued


def confirm_code(context: Context, account: Row[Any], code: str, language: str) -> None:
    """The last step: the code from the email turns two-factor on and activates the account."""
    require_open(account, "two_factor", language)
    key = throttle_key(account.email)
    now = context.clock()
    with context.sessions() as session, session.begin():
        counted = reserve(session, key, now)
    if isinstance(counted, Locked):
        raise too_many_attempts(counted.retry_after, language)
    with context.sessions() as session, session.begin():
        challenge_id = challenges.latest_open(session, account.id, "activation", now)
        opened = challenge_id is not None and challenges.redeem(
            session,
            context.codes,
            challenge_id=challenge_id,
            purpose="activation",
            code=code,
            now=now,
        )
        if opened:
            forgive(session, key)
            complete(session, context, account.id, account.via_invitation, now)
    if not opened:
        raise invalid_code(language)


def complete(
    session: Session,
    context: Context,
    account_id: uuid.UUID,
    invitation_id: uuid.UUID,
    now: datetime,
) -> None:
    """Active from now on: every code of the account stops working, and AccountActivated
    tells the invitations and exams services which invitation it came through."""
    session.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(status="active", two_factor="email", activated_at=now)
    )
    account = session.execute(select(accounts).where(accounts.c.id == account_id)).one()
    used = session.execute(
        select(activations).where(activations.c.invitation_id == invitation_id)
    ).first()
    invitation_ids = select(activations.c.invitation_id).where(
        activations.c.account_id == account_id
    )
    session.execute(
        delete(activation_tokens).where(activation_tokens.c.invitation_id.in_(invitation_ids))
    )
    session.execute(
        update(activations)
        .where(activations.c.account_id == account_id, activations.c.status == "open")
        .values(status="completed", code_digest=None, updated_at=now)
    )
    context.outbox.add(
        session,
        "AccountActivated",
        {
            "account_id": str(account.id),
            "email": account.email,
            "first_name": account.first_name,
            "last_name": account.last_name,
            "language": account.language,
            "invitation_id": str(used.invitation_id) if used else None,
            "institution_id": str(used.institution_id) if used else None,
            "evaluation": {"ref": used.evaluation_ref, "name": used.evaluation_name}
            if used
            else None,
            "activated_at": now,
        },
    )
