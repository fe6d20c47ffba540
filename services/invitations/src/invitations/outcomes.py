"""What happens to invitations elsewhere on the platform: an account is activated, or
changes how it signs in; an invitation email is delivered or fails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.envelope import Event
from invitations import store
from invitations.domain import EmailStatus, Status, normalise_email
from invitations.issuing import announce


def record_account_activated(session: Session, outbox: Outbox, event: Event, now: datetime) -> None:
    """AccountActivated: remember the address; its invitation is activated; its other
    pending invitations become enrollments (the person now signs in)."""
    data = event.data
    email = normalise_email(data["email"])
    store.remember_account(session, email, data["account_id"], data["activated_at"])
    if data.get("invitation_id"):
        used = store.usable_for_update(session, data["invitation_id"])
        # an expired invitation that was replaced stays expired: its replacement is
        # enrolled below, and one person has one standing invitation per evaluation
        if used is not None and not store.is_replaced(session, used):
            store.update_invitation(
                session, used.id, status=Status.ACTIVATED.value, code_digest=None, updated_at=now
            )
    for other in store.pending_of_address(session, email):
        notice = announce(session, outbox, other, code=None, expires_at=None)
        store.update_invitation(
            session,
            other.id,
            status=Status.ENROLLED.value,
            code_digest=None,
            expires_at=None,
            email_status=EmailStatus.QUEUED.value,
            last_event_id=notice.id,
            updated_at=now,
        )


def record_sign_in_methods(session: Session, event: Event) -> None:
    """SignInMethodsChanged: how the account signs in, unless a later change came first; kept
    whether or not its AccountActivated has come yet."""
    data = event.data
    store.record_sign_in_methods(session, data["account_id"], data["methods"], data["changed_at"])


def record_email_outcome(session: Session, event: Event, now: datetime) -> None:
    """EmailDelivered / EmailFailed of the latest email of an invitation. An email that one
    attempt delivered stays sent, whichever outcome of another attempt arrives last."""
    data = event.data
    if not data.get("invitation_id"):
        return
    delivered = event.type == "EmailDelivered"
    store.record_email_status(
        session,
        data["invitation_id"],
        data["source_event_id"],
        status=(EmailStatus.SENT if delivered else EmailStatus.FAILED).value,
        error=None if delivered else data["reason"],
        unless_status=None if delivered else EmailStatus.SENT.value,
        now=now,
    )
