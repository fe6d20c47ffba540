"""Events the invitations service consumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.events.envelope import Event
from invitations.service import Issuer, record_email_outcome

Clock = Callable[[], datetime]


def handlers(issuer: Issuer, clock: Clock = lambda: datetime.now(UTC)) -> dict[str, Handler]:
    def account_activated(session: Session, event: Event) -> None:
        issuer.record_activation(session, event, clock())

    def email_outcome(session: Session, event: Event) -> None:
        record_email_outcome(session, event, clock())

    return {
        "AccountActivated": account_activated,
        "EmailDelivered": email_outcome,
        "EmailFailed": email_outcome,
    }
