"""Events the identity service consumes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock, utcnow
from contracts.events.envelope import Event
from identity.activation import close_activation, record_invitation
from identity.recovery import send_reset_link


def handlers(
    code_key: bytes,
    clock: Clock = utcnow,
    *,
    public_url: str,
    outbox: Outbox,
) -> dict[str, Handler]:
    """``outbox`` seals what it stages: the reset link is a secret (DESIGN section 5)."""

    def invitation_issued(session: Session, event: Event) -> None:
        record_invitation(session, event, code_key, clock())

    def code_expired(session: Session, event: Event) -> None:
        close_activation(session, event, "expired", clock())

    def invitation_revoked(session: Session, event: Event) -> None:
        close_activation(session, event, "revoked", clock())

    def password_reset_asked(session: Session, event: Event) -> None:
        send_reset_link(session, outbox, public_url, event.data["email"], clock())

    return {
        "InvitationIssued": invitation_issued,
        "CodeExpired": code_expired,
        "InvitationRevoked": invitation_revoked,
        "PasswordResetAsked": password_reset_asked,
    }
