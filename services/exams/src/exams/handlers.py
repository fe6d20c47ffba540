"""Events the exams service consumes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.events.clock import Clock, utcnow
from contracts.events.envelope import Event
from exams.enrolment import record_activation, record_device, record_invitation


def handlers(clock: Clock = utcnow) -> dict[str, Handler]:
    def account_activated(session: Session, event: Event) -> None:
        record_activation(session, event, clock())

    def invitation_issued(session: Session, event: Event) -> None:
        record_invitation(session, event, clock())

    def device_validated(session: Session, event: Event) -> None:
        record_device(session, event)

    return {
        "AccountActivated": account_activated,
        "InvitationIssued": invitation_issued,
        "DeviceValidated": device_validated,
    }
