"""Invitation emails whatever order the invitations' events come in (DESIGN sections 3 and 5):
an InvitationIssued older than a newer code of its invitation, or than its revoke, expiry or
activation, gets no email; an invitation email still waiting when its code dies is not sent,
and EmailFailed says why."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.envelope import Event
from notifier import store
from notifier.domain import NOT_SENT

log = logging.getLogger(__name__)


def current_invitations(
    session: Session, events: Sequence[Event], *, now: datetime, outbox: Outbox
) -> list[Event]:
    """The InvitationIssued among ``events`` that still deserve their email, in order; the
    waiting emails of the codes they replace are stopped."""
    known = store.lock_invitations(session, [e.data["invitation_id"] for e in events])
    before = dict(known)
    for event in events:
        invitation_id = event.data["invitation_id"]
        known[invitation_id] = known[invitation_id].issued(event.occurred_at)
    changed = {i: moments for i, moments in known.items() if moments != before[i]}
    store.remember_invitations(session, changed)
    replaced = [i for i in changed if before[i].issued_at is not None]
    _stop(session, outbox, replaced, now=now, because="InvitationIssued")
    current = []
    for event in events:
        if known[event.data["invitation_id"]].emails(event.occurred_at):
            current.append(event)
        else:
            log.info("InvitationIssued %s came after its code died: no email", event.id)
    return current


def end_invitation_codes(
    session: Session, events: Sequence[Event], *, now: datetime, outbox: Outbox
) -> None:
    """CodeExpired, InvitationRevoked or AccountActivated (all of one type): the invitation's
    code is dead from then on, and its email still waiting is not sent, unless a newer code
    has replaced that code already."""
    ending = [e for e in events if e.data.get("invitation_id")]
    if not ending:
        return
    known = store.lock_invitations(session, [e.data["invitation_id"] for e in ending])
    before = dict(known)
    ended: set[uuid.UUID] = set()
    for event in ending:
        invitation_id = event.data["invitation_id"]
        if known[invitation_id].ends_latest_code(event.occurred_at):
            ended.add(invitation_id)
        known[invitation_id] = known[invitation_id].closed(event.occurred_at)
    store.remember_invitations(
        session, {i: moments for i, moments in known.items() if moments != before[i]}
    )
    _stop(session, outbox, ended, now=now, because=ending[0].type)


def _stop(
    session: Session,
    outbox: Outbox,
    invitation_ids: Collection[uuid.UUID],
    *,
    now: datetime,
    because: str,
) -> None:
    reason = NOT_SENT[because]
    stopped = store.stop_invitation_emails(session, invitation_ids, now=now, reason=reason)
    outbox.add_many(
        session,
        [
            (
                "EmailFailed",
                {
                    "message_id": email.message_id,
                    "source_event_id": email.source_event_id,
                    "source_event_type": email.source_event_type,
                    "recipient": email.recipient,
                    "invitation_id": email.invitation_id,
                    "reason": reason,
                    "permanent": True,
                    "failed_at": now,
                },
                email.correlation_id,
            )
            for email in stopped
        ],
    )
