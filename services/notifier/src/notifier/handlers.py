"""Events the notifier service consumes: each one queues its email, rendered, in the
consumer's transaction; the delivery job sends it. The invitations' events are compared with
what is known of their invitation first, so that no email carries a dead code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session

from contracts.bus import SUBSCRIPTIONS, AnyHandler, HandleMany
from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock, utcnow
from contracts.events.envelope import Event
from notifier import store
from notifier.config import SERVICE, Settings
from notifier.domain import CODE_ENDING_EVENTS
from notifier.invitation_codes import current_invitations, end_invitation_codes
from notifier.mail import Composer, Sender
from notifier.rendering import Brand
from notifier.sealed_mime import mime_sealer

log = logging.getLogger(__name__)


def queue_email(session: Session, event: Event, *, composer: Composer, clock: Clock) -> bool:
    """Queue the email ``event`` asks for; False if this event already queued one."""
    queued = store.add_outgoing(session, composer.outgoing(event, clock()))
    if not queued:
        log.info("%s %s already has its email", event.type, event.id)
    return queued


def composer_for(settings: Settings) -> Composer:
    return Composer.create(
        Brand(
            platform_name=settings.platform_name,
            support_email=settings.support_email,
            public_url=settings.service.public_url,
        ),
        Sender(mail_from=settings.smtp.mail_from, domain=settings.smtp.sender_domain),
        mime_sealer(settings.service),
    )


def queue_emails(
    session: Session, events: Sequence[Event], *, composer: Composer, clock: Clock
) -> None:
    """Queue the emails of a consumer batch with one multi-row INSERT; an event that already
    has its email (a redelivery) is skipped by the unique source event."""
    now = clock()
    store.add_many_outgoing(session, [composer.outgoing(event, now) for event in events])


def handlers(
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    on_queued: Callable[[], object] | None = None,
) -> dict[str, AnyHandler]:
    """``on_queued`` is called once the queued emails are committed (a one-time code should
    not wait for the delivery job's next round)."""
    composer = composer_for(settings or Settings.from_env())
    outbox = Outbox(store.metadata, SERVICE)

    def queue(session: Session, events: Sequence[Event]) -> None:
        if not events:
            return
        queue_emails(session, events, composer=composer, clock=clock)
        if on_queued is not None:
            orm_events.listen(session, "after_commit", lambda _session: on_queued(), once=True)

    def invitations(session: Session, events: Sequence[Event]) -> None:
        queue(session, current_invitations(session, events, now=clock(), outbox=outbox))

    def activations(session: Session, events: Sequence[Event]) -> None:
        end_invitation_codes(session, events, now=clock(), outbox=outbox)
        queue(session, events)

    def code_endings(session: Session, events: Sequence[Event]) -> None:
        end_invitation_codes(session, events, now=clock(), outbox=outbox)

    special = {
        "InvitationIssued": invitations,
        "AccountActivated": activations,
        **{event_type: code_endings for event_type in CODE_ENDING_EVENTS},
    }
    return {
        event_type: HandleMany(special.get(event_type, queue))
        for event_type, _version in SUBSCRIPTIONS[SERVICE]
    }
