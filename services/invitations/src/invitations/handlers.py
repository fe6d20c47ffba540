"""Events the invitations service consumes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock, utcnow
from contracts.events.envelope import Event
from invitations.outcomes import (
    record_account_activated,
    record_email_outcome,
    record_sign_in_methods,
)


def handlers(outbox: Outbox, clock: Clock = utcnow) -> dict[str, Handler]:
    def account_activated(session: Session, event: Event) -> None:
        record_account_activated(session, outbox, event, clock())

    def email_outcome(session: Session, event: Event) -> None:
        record_email_outcome(session, event, clock())

    return {
        "AccountActivated": account_activated,
        "SignInMethodsChanged": record_sign_in_methods,
        "EmailDelivered": email_outcome,
        "EmailFailed": email_outcome,
    }
