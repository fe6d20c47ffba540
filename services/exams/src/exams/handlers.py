"""Events the exams service consumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from contracts.bus import Handler
from contracts.events.envelope import Event
from exams.enrolment import record_activation, record_device, record_invitation

Clock = Callable[[], datetime]


def handlers(clock: Clock = lambda: datetime.now(UTC)) -> dict[str, Handler]:
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
