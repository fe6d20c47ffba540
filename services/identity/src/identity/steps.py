"""The activation steps after the code, in their order (DESIGN section 6): password,
language, terms and privacy, two-factor by email. A step is open once every step before it
is done; done steps may be done again until the last one completes the activation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, delete, null, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.schemas import LANGUAGES
from identity import challenges, sign_in_methods
from identity.challenges import OneTimeCodes
from identity.domain import (
    ActivationCodeInvalid,
    PasswordPolicy,
    ResendTooSoon,
    TermsNotAccepted,
    TermsOutdated,
    require_open,
)
from identity.passwords import Passwords, broken_rules
from identity.store import accounts, activation_tokens, activations
from identity.terms import Terms
from identity.throttle import Reserved, forgive


def set_password(
    session: Session, passwords: Passwords, account: Row[Any], password: str, now: datetime
) -> None:
    require_open(account, "password")
    names = (account.first_name, account.last_name)
    wrong = broken_rules(password, account.email, names=names)
    if wrong:
        raise PasswordPolicy(rules=wrong, account_language=account.language)
    hashed = passwords.hash(password)
    session.execute(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(password_hash=hashed, password_changed_at=now)
    )


def set_language(session: Session, account: Row[Any], chosen: str) -> None:
    require_open(account, "language")
    assert chosen in LANGUAGES
    session.execute(update(accounts).where(accounts.c.id == account.id).values(language=chosen))


def accept_terms(
    session: Session,
    terms: Terms,
    account: Row[Any],
    *,
    outbox: Outbox,
    accepted: bool,
    terms_version: str,
    privacy_version: str,
    now: datetime,
) -> None:
    if accepted is not True:
        raise TermsNotAccepted(account_language=account.language)
    require_open(account, "terms")
    if not terms.accepted_by(terms_version, privacy_version):
        raise TermsOutdated(**terms.as_dict(), account_language=account.language)
    record_acceptance(session, account.id, terms, now)
    if account.activated_with:
        # the partner's sign-in stood in for the emailed code: this was the last step
        complete(session, outbox, account.id, account.via_invitation, now)


def record_acceptance(session: Session, account_id: uuid.UUID, terms: Terms, now: datetime) -> None:
    session.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            terms_version=terms.terms_version,
            privacy_version=terms.privacy_version,
            terms_accepted_at=now,
        )
    )


def send_code(
    session: Session, codes: OneTimeCodes, account: Row[Any], now: datetime, email_language: str
) -> uuid.UUID:
    require_open(account, "two_factor")
    issued = challenges.issue(
        session,
        codes,
        account=account,
        purpose="activation",
        now=now,
        language=account.language or email_language,
    )
    if isinstance(issued, challenges.TooSoon):
        raise ResendTooSoon(retry_after=issued.retry_after, account_language=account.language)
    return issued


def confirm_code(
    session: Session,
    codes: OneTimeCodes,
    outbox: Outbox,
    account: Row[Any],
    code: str,
    attempt: Reserved,
    now: datetime,
) -> ActivationCodeInvalid | None:
    """The last step: the code from the email turns two-factor on and activates the account.
    A wrong code is returned as a refusal: its try must be committed before it is answered.
    ``attempt`` was counted against the address first (``throttle.count_attempt``)."""
    challenge_id = challenges.latest_open(session, account.id, "activation", now)
    opened = challenge_id is not None and challenges.redeem(
        session, codes, challenge_id=challenge_id, purpose="activation", code=code, now=now
    )
    if not opened:
        return ActivationCodeInvalid(account_language=account.language)
    forgive(session, attempt.key)
    complete(session, outbox, account.id, account.via_invitation, now)
    return None


def complete(
    session: Session,
    outbox: Outbox,
    account_id: uuid.UUID,
    invitation_id: uuid.UUID,
    now: datetime,
) -> None:
    """Active from now on: every code of the account stops working, and AccountActivated
    tells the invitations and exams services which invitation it came through, and
    SignInMethodsChanged how the account signs in. Two-factor by email is on, unless a
    sign-in partner stands in for it."""
    session.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            status="active",
            two_factor=case((accounts.c.activated_with.is_(None), "email"), else_=null()),
            activated_at=now,
        )
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
    outbox.add(
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
    sign_in_methods.announce(session, outbox, account_id, now)
