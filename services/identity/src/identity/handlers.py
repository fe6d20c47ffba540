"""Events the identity service consumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.envelope import Event
from identity.activation import close_activation, record_invitation

Clock = Callable[[], datetime]


def handlers(code_key: bytes, clock: Clock = lambda: datetime.now(UTC)) -> dict[str, Handler]:
    def invitation_issued(session: Session, event: Event) -> None:
        record_invitation(session, event, code_key, clock())

    def code_expired(session: Session, event: Event) -> None:
        close_activation(session, event, "expired", clock())

    def invitation_revoked(session: Session, event: Event) -> None:
        close_activation(session, event, "revoked", clock())

    return {
        "InvitationIssued": invitation_issued,
        "CodeExpired": code_expired,
        "InvitationRevoked": invitation_revoked,
    }
