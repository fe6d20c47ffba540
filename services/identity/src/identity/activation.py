"""Activation, first part: pending accounts kept from the invitations' events, and the
redemption of an invitation code into an activation token. The code keeps working until
activation completes (DESIGN section 5), so a half-done activation can be resumed."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from contracts.events.codes import code_digest, normalise_code
from contracts.events.envelope import Event
from identity.domain import ActivationTokenInvalid, InvitationCodeInvalid
from identity.store import (
    accounts,
    activation_tokens,
    activations,
    known_invitation,
    known_invitations,
)

ACTIVATION_TOKEN_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Redeemed:
    activation_token: str
    account: Row[Any]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_invitation(session: Session, event: Event, key: bytes, now: datetime) -> None:
    """InvitationIssued with a code: the pending account and what its code may do. A resend
    replaces the code of the same invitation. Events come in any order: one older than the
    latest code of its invitation, or than its revoke or expiry, changes nothing."""
    data = event.data
    if data["code"] is None:
        return  # an existing account: nothing to activate
    known = known_invitation(session, data["invitation_id"])
    if not _is_latest_issue(known, event.occurred_at):
        return
    session.execute(
        update(known_invitations)
        .where(known_invitations.c.invitation_id == data["invitation_id"])
        .values(issued_at=event.occurred_at)
    )
    digest = code_digest(key, data["code"])
    current = session.execute(
        select(activations.c.status, activations.c.code_digest).where(
            activations.c.invitation_id == data["invitation_id"]
        )
    ).first()
    if current is not None and (current.status == "completed" or current.code_digest == digest):
        return  # used to activate already, or this very code again
    email = data["email"].strip().lower()
    account = session.execute(select(accounts).where(accounts.c.email == email)).first()
    if account is None:
        account_id = uuid.uuid4()
        session.execute(
            insert(accounts).values(
                id=account_id,
                email=email,
                first_name=data["first_name"],
                last_name=data["last_name"],
                status="pending",
                invited_language=data["language"],
                created_at=now,
            )
        )
    else:
        account_id = account.id
        if account.status == "expired":
            session.execute(
                update(accounts).where(accounts.c.id == account_id).values(status="pending")
            )
    values = {
        "account_id": account_id,
        "institution_id": data["institution_id"],
        "evaluation_ref": data["evaluation"]["ref"],
        "evaluation_name": data["evaluation"]["name"],
        "code_digest": digest,
        "expires_at": data["expires_at"],
        "status": "open",
        "updated_at": now,
    }
    if current is None:
        session.execute(insert(activations).values(invitation_id=data["invitation_id"], **values))
    else:
        # a resent code replaces the old one, and whatever the old one opened
        session.execute(
            update(activations)
            .where(activations.c.invitation_id == data["invitation_id"])
            .values(**values)
        )
        session.execute(
            delete(activation_tokens).where(
                activation_tokens.c.invitation_id == data["invitation_id"]
            )
        )


def _is_latest_issue(known: Row[Any], occurred_at: datetime) -> bool:
    """Whether a code issued at ``occurred_at`` is its invitation's latest word: not older than
    the code already held, nor than a revoke or expiry (which wins a tie: a dead code stays
    dead)."""
    if known.closed_at is not None and known.closed_at >= occurred_at:
        return False
    return known.issued_at is None or known.issued_at <= occurred_at


def close_activation(session: Session, event: Event, status: str, now: datetime) -> None:
    """CodeExpired or InvitationRevoked: the code stops working, unless a newer code of the
    same invitation (a resend after the expiry) has been handled already; arriving before its
    InvitationIssued, it is remembered so that the code never starts working."""
    invitation_id = event.data["invitation_id"]
    known = known_invitation(session, invitation_id)
    if known.closed_at is None or known.closed_at < event.occurred_at:
        session.execute(
            update(known_invitations)
            .where(known_invitations.c.invitation_id == invitation_id)
            .values(closed_at=event.occurred_at)
        )
    if known.issued_at is not None and known.issued_at > event.occurred_at:
        return  # it closed an older code than the one the invitation has now
    session.execute(
        update(activations)
        .where(activations.c.invitation_id == invitation_id, activations.c.status == "open")
        .values(status=status, code_digest=None, updated_at=now)
    )
    account_id = session.scalar(
        select(activations.c.account_id).where(activations.c.invitation_id == invitation_id)
    )
    if account_id is None:
        return
    still_open = select(activations.c.invitation_id).where(
        activations.c.account_id == account_id, activations.c.status == "open"
    )
    # a pending account with no invitation left waits, expired, for a new one
    session.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.status == "pending", ~still_open.exists())
        .values(status="expired")
    )


def redeem(session: Session, typed: str, key: bytes, now: datetime) -> Redeemed:
    """An activation token for a code that is open, unexpired and whose account is still
    pending; the same refusal in every other case, whatever the reason."""
    if normalise_code(typed) is None:
        raise InvitationCodeInvalid()
    found = session.execute(
        select(activations.c.invitation_id, activations.c.expires_at, accounts)
        .join(accounts, accounts.c.id == activations.c.account_id)
        .where(
            activations.c.code_digest == code_digest(key, typed),
            activations.c.status == "open",
        )
    ).first()
    if found is None or found.expires_at <= now or found.status != "pending":
        raise InvitationCodeInvalid()
    account = session.execute(select(accounts).where(accounts.c.id == found.id)).one()
    return Redeemed(_new_token(session, found.invitation_id, now), account)


def _new_token(session: Session, invitation_id: uuid.UUID, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.execute(
        insert(activation_tokens).values(
            token_digest=token_digest(token),
            invitation_id=invitation_id,
            expires_at=now + ACTIVATION_TOKEN_LIFETIME,
        )
    )
    return token


def resume(session: Session, account_id: uuid.UUID, now: datetime) -> str | None:
    """An activation token for someone who signed in with the password they chose before
    leaving the activation half done; None once no invitation of theirs is open."""
    invitation_id = session.scalar(
        select(activations.c.invitation_id)
        .where(
            activations.c.account_id == account_id,
            activations.c.status == "open",
            activations.c.expires_at > now,
        )
        .order_by(activations.c.updated_at.desc())
        .limit(1)
    )
    return _new_token(session, invitation_id, now) if invitation_id is not None else None


def account_for_token(session: Session, token: str | None, now: datetime) -> Row[Any]:
    """The account an activation token works for, with the invitation it came through
    (``via_invitation``): that is the invitation the activation completes."""
    if not token:
        raise ActivationTokenInvalid()
    found = session.execute(
        select(accounts, activations.c.invitation_id.label("via_invitation"))
        .join(activations, activations.c.account_id == accounts.c.id)
        .join(activation_tokens, activation_tokens.c.invitation_id == activations.c.invitation_id)
        .where(
            activation_tokens.c.token_digest == token_digest(token),
            activation_tokens.c.expires_at > now,
            activations.c.status == "open",
        )
    ).first()
    if found is None:
        raise ActivationTokenInvalid()
    return found
