"""The delivery round: claims due emails in batches, shares each batch among the senders
(up to SMTP_MAX_CONNECTIONS SMTP sessions, each kept open across batches), and records each
outcome with its EmailDelivered or EmailFailed event in one transaction per batch. And the
operator's listing of deliveries."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from prometheus_client import Counter
from sqlalchemy import RowMapping
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.bus.sealing import Sealer
from contracts.events.clock import Clock
from notifier import store
from notifier.domain import Failure, RetryPolicy, classify
from notifier.sealed_mime import open_message
from notifier.sender import MailSender, OutgoingMail

log = logging.getLogger(__name__)

#: the longest a worker may hold a claimed batch before another worker may take it over
CLAIM_LEASE = timedelta(minutes=5)


@dataclass
class RoundReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.failed


@dataclass
class _Outcomes:
    """What happened to one claimed batch, ready to be written."""

    delivered: list[tuple[store.DueEmail, datetime]] = field(default_factory=list)
    retried: list[tuple[store.DueEmail, Failure, datetime]] = field(default_factory=list)
    failed: list[tuple[store.DueEmail, Failure, datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """Everything a delivery round needs, passed in (a fake sender and clock in tests)."""

    sessions: sessionmaker[Session]
    #: one per SMTP session the round may use at once; a small batch uses only the first
    senders: Sequence[MailSender]
    outbox: Outbox
    envelope_from: str
    clock: Clock
    #: opens the waiting messages, sealed by the composer
    sealer: Sealer
    retry: RetryPolicy = RetryPolicy()
    batch_size: int = 100
    lease: timedelta = CLAIM_LEASE
    #: the fewest emails worth a session of their own
    per_session: int = 10


def deliver_due(
    delivery: Delivery, *, should_stop: Callable[[], bool] = lambda: False
) -> RoundReport:
    """Send every email that is due, batch after batch, until none is left (or ``should_stop``).
    While a batch is being sent, the next one is claimed and the previous one's outcomes are
    written, so the database work hides behind the SMTP round trips."""
    report = RoundReport()
    if should_stop():
        return report
    with _Pipeline(delivery) as pipeline, _Sending(delivery) as sending:
        batch = pipeline.claim()
        while batch:
            pipeline.claim_next()
            outcomes = sending.send(batch)
            pipeline.record(outcomes)
            report.delivered += len(outcomes.delivered)
            report.retried += len(outcomes.retried)
            report.failed += len(outcomes.failed)
            if any(failure.relay_down for _e, failure, _at in outcomes.retried):
                break  # the rest waits for its own retry time rather than hammer a dead relay
            if should_stop():
                break
            batch = pipeline.next_batch()
    return report


class _Pipeline:
    """The database side of a delivery round, in one background thread that runs its tasks
    in order: claim the next batch, write the outcomes of the last. A batch claimed but not
    sent (the round stopped) is released on exit."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._pool: ThreadPoolExecutor | None = None
        self._next: Future[list[store.DueEmail]] | None = None
        self._written: Future[None] | None = None

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._next is not None:
                unsent = self._next.result()
                self._next = None
                if unsent:
                    self._run(self._release, unsent).result()
            if self._written is not None:
                self._written.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown()

    def claim(self) -> list[store.DueEmail]:
        return self._claim()

    def claim_next(self) -> None:
        self._next = self._run(self._claim)

    def next_batch(self) -> list[store.DueEmail]:
        assert self._next is not None
        batch, self._next = self._next.result(), None
        return batch

    def record(self, outcomes: _Outcomes) -> None:
        if self._written is not None:
            self._written.result()  # a failed write stops the round here, not later
        self._written = self._run(self._record, outcomes)

    def _run(self, task: Callable[..., Any], *args: Any) -> Future[Any]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="deliveries-db")
        return self._pool.submit(task, *args)

    def _claim(self) -> list[store.DueEmail]:
        d = self._delivery
        with d.sessions() as session, session.begin():
            return store.claim_due(session, now=d.clock(), limit=d.batch_size, lease=d.lease)

    def _release(self, batch: list[store.DueEmail]) -> None:
        with self._delivery.sessions() as session, session.begin():
            store.release(session, [email.id for email in batch])

    def _record(self, outcomes: _Outcomes) -> None:
        with self._delivery.sessions() as session, session.begin():
            _record(session, self._delivery, outcomes)
        _count(outcomes)


class _Sending:
    """Shares a batch among the senders, each in its own thread; the emails are dealt in
    turn, so that every session starts with the most urgent ones (codes come first)."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> _Sending:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def send(self, batch: list[store.DueEmail]) -> _Outcomes:
        d = self._delivery
        shares = max(1, min(len(d.senders), len(batch) // d.per_session))
        if shares == 1:
            return _send(d, d.senders[0], batch)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(d.senders), thread_name_prefix="smtp")
        parts = [self._pool.submit(_send, d, d.senders[i], batch[i::shares]) for i in range(shares)]
        outcomes = _Outcomes()
        for part in parts:
            done = part.result()
            outcomes.delivered += done.delivered
            outcomes.retried += done.retried
            outcomes.failed += done.failed
        return outcomes


def _send(delivery: Delivery, sender: MailSender, batch: list[store.DueEmail]) -> _Outcomes:
    outcomes = _Outcomes()
    relay_down: Failure | None = None
    for email in batch:
        if relay_down is not None:  # not tried: the relay is down for all of them
            _settle(delivery, outcomes, email, relay_down)
            continue
        try:
            mime = open_message(delivery.sealer, email.mime, email.source_event_id)
            sender.send(OutgoingMail(delivery.envelope_from, email.recipient, mime))
        except Exception as exc:  # every failure is classified and recorded, none is lost
            failure = classify(exc)
            if failure.relay_down:
                log.warning("mail relay unavailable: %s", failure.reason)
                relay_down = failure
            _settle(delivery, outcomes, email, failure)
            continue
        outcomes.delivered.append((email, delivery.clock()))
    return outcomes


def _settle(
    delivery: Delivery, outcomes: _Outcomes, email: store.DueEmail, failure: Failure
) -> None:
    now = delivery.clock()
    if failure.permanent:
        outcomes.failed.append((email, failure, now))
    elif delivery.retry.gives_up(email.created_at, now):
        given_up = Failure(
            f"gave up after {email.attempts + 1} attempts; last: {failure.reason}", False
        )
        outcomes.failed.append((email, given_up, now))
    else:
        outcomes.retried.append((email, failure, now))


def _record(session: Session, delivery: Delivery, outcomes: _Outcomes) -> None:
    store.mark_delivered(
        session,
        [{"row_id": e.id, "attempts": e.attempts + 1, "at": at} for e, at in outcomes.delivered],
    )
    store.mark_failed(
        session,
        [
            {"row_id": e.id, "attempts": e.attempts + 1, "at": at, "error": f.reason[:1000]}
            for e, f, at in outcomes.failed
        ],
    )
    store.reschedule(
        session,
        [
            {
                "row_id": e.id,
                "attempts": e.attempts + 1,
                "error": f.reason[:1000],
                "retry_at": at + delivery.retry.delay_after(e.attempts + 1),
            }
            for e, f, at in outcomes.retried
        ],
    )
    events = [
        ("EmailDelivered", _about(email) | {"delivered_at": at}, email.correlation_id)
        for email, at in outcomes.delivered
    ] + [
        (
            "EmailFailed",
            _about(email)
            | {"reason": failure.reason[:1000], "permanent": failure.permanent, "failed_at": at},
            email.correlation_id,
        )
        for email, failure, at in outcomes.failed
    ]
    delivery.outbox.add_many(session, events)


def _about(email: store.DueEmail) -> dict[str, Any]:
    return {
        "message_id": email.message_id,
        "source_event_id": email.source_event_id,
        "source_event_type": email.source_event_type,
        "recipient": email.recipient,
        "invitation_id": email.invitation_id,
    }


@cache
def _emails_counter() -> Counter:
    return Counter("nexam_notifier_emails", "Emails by kind and outcome.", ["kind", "outcome"])


def _count(outcomes: _Outcomes) -> None:
    counter = _emails_counter()
    for email, _at in outcomes.delivered:
        counter.labels(email.kind, "delivered").inc()
    for email, _f, _at in outcomes.retried:
        counter.labels(email.kind, "retried").inc()
    for email, _f, _at in outcomes.failed:
        counter.labels(email.kind, "failed").inc()


# -- the operator's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPage:
    rows: Sequence[RowMapping]
    #: the id to continue after, when there is more
    last_id: int | None


def list_deliveries(
    session: Session,
    *,
    email: str | None,
    event_id: uuid.UUID | None,
    before_id: int | None,
    limit: int,
) -> DeliveryPage:
    """Deliveries newest first, by recipient address and/or source event, ``limit`` at a time
    after the row ``before_id``."""
    rows = store.list_deliveries(
        session, email=email, event_id=event_id, before_id=before_id, limit=limit + 1
    )
    page = rows[:limit]
    return DeliveryPage(page, page[-1]["id"] if len(rows) > limit else None)
