"""Issuing invitations, sending them again, revoking them, and letting them expire. Each
use case takes the session, its adapters and the time, and leaves committing to its caller."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.envelope import Event
from invitations import store
from invitations.domain import (
    Candidate,
    EmailStatus,
    InvitationNotFound,
    InvitationReplaced,
    Status,
    check_resend,
    check_revoke,
    code_digest,
    expiry_from,
    issued_data,
    new_code,
    new_invitation,
    status_on_issue,
)


@dataclass(frozen=True)
class Issuing:
    """What issuing a code needs besides the session: the outbox that announces it, and the
    key its digest is made with."""

    outbox: Outbox
    code_key: bytes


@dataclass(frozen=True)
class Issued:
    invitation: Mapping[str, Any]
    outcome: str  # issued, enrolled, or skipped (a standing invitation already exists)


def issue_invitations(
    session: Session,
    issuing: Issuing,
    institution_id: uuid.UUID,
    candidates: Sequence[Candidate],
    now: datetime,
    batch_id: uuid.UUID | None = None,
) -> list[Issued]:
    """Invite each candidate unless a standing invitation for the same person and
    evaluation exists; an address with an active account gets a sign-in notice instead
    of a code. Two queries for the whole chunk, then one insert per new invitation."""
    emails = {c.email for c in candidates}
    standing = store.standing_among(session, institution_id, emails)
    active = store.with_accounts_among(session, emails)
    results: list[Issued] = []
    new_rows: list[dict[str, Any]] = []
    announcements: list[tuple[str, dict[str, Any], str]] = []
    for candidate in candidates:
        key = (candidate.email, candidate.evaluation_ref)
        existing = standing.get(key)
        if existing is not None:
            results.append(Issued(existing, "skipped"))
            continue
        enrolled = candidate.email in active
        code = None if enrolled else new_code()
        row = new_invitation(
            institution_id,
            candidate,
            now,
            digest=code_digest(issuing.code_key, code) if code else None,
            expires_at=None if enrolled else expiry_from(now),
            batch_id=batch_id,
        )
        new_rows.append(row)
        announcements.append(("InvitationIssued", issued_data(row, code, resent=False), ""))
        standing[key] = row
        results.append(Issued(row, "enrolled" if enrolled else "issued"))
    # one multi-row INSERT for the events and one for the invitations, per chunk
    for row, event in zip(new_rows, issuing.outbox.add_many(session, announcements), strict=True):
        row["last_event_id"] = event.id
    store.add_invitations(session, new_rows)
    return results


def resend_invitation(
    session: Session,
    issuing: Issuing,
    institution_id: uuid.UUID,
    invitation_id: uuid.UUID,
    now: datetime,
) -> Row[Any]:
    """A new code valid 30 days from now; the old one stops working at once."""
    current = _owned_for_update(session, institution_id, invitation_id)
    status = Status(current.status)
    check_resend(status)
    if status is Status.EXPIRED and store.is_replaced(session, current):
        raise InvitationReplaced()
    # an address that has activated an account since gets a sign-in notice, not a code
    enrolled = status is Status.ENROLLED or store.has_account(session, current.email)
    code = None if enrolled else new_code()
    expires_at = None if enrolled else expiry_from(now)
    event = announce(
        session, issuing.outbox, current, code=code, expires_at=expires_at, resent=True
    )
    return store.update_invitation(
        session,
        current.id,
        status=status_on_issue(enrolled).value,
        code_digest=code_digest(issuing.code_key, code) if code else None,
        expires_at=expires_at,
        email_status=EmailStatus.QUEUED.value,
        email_error=None,
        last_event_id=event.id,
        updated_at=now,
    )


def revoke_invitation(
    session: Session,
    outbox: Outbox,
    institution_id: uuid.UUID,
    invitation_id: uuid.UUID,
    now: datetime,
) -> Row[Any]:
    """Withdraw an invitation; its code stops working."""
    current = _owned_for_update(session, institution_id, invitation_id)
    check_revoke(Status(current.status))
    outbox.add(
        session,
        "InvitationRevoked",
        {
            "invitation_id": current.id,
            "institution_id": institution_id,
            "email": current.email,
            "revoked_at": now,
        },
    )
    return store.update_invitation(
        session, current.id, status=Status.REVOKED.value, code_digest=None, updated_at=now
    )


def expire_invitations(session: Session, outbox: Outbox, now: datetime, limit: int = 500) -> int:
    """Mark expired the pending invitations whose time has come, announcing each once."""
    due = store.claim_due(session, now, limit)
    for row in due:
        outbox.add(
            session,
            "CodeExpired",
            {
                "invitation_id": row.id,
                "institution_id": row.institution_id,
                "email": row.email,
                "expired_at": now,
            },
        )
    store.mark_expired(session, [r.id for r in due], now)
    return len(due)


def announce(
    session: Session,
    outbox: Outbox,
    invitation: Row[Any],
    *,
    code: str | None,
    expires_at: datetime | None,
    resent: bool = False,
) -> Event:
    """InvitationIssued for an invitation already there: a new code, or a sign-in notice."""
    row = {**invitation._mapping, "expires_at": expires_at}
    return outbox.add(session, "InvitationIssued", issued_data(row, code, resent=resent))


def _owned_for_update(
    session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID
) -> Row[Any]:
    row = store.find_invitation(session, institution_id, invitation_id, for_update=True)
    if row is None:
        raise InvitationNotFound()
    return row
