"""The consumer: validates each message against its contract, runs the service's handler in
a database transaction that also records the event id in the inbox, and acks only after that
transaction commits. A redelivered or duplicated event finds its id in the inbox and is
acked without running the handler again.

Messages that are already waiting (prefetched) are handled together, up to ``batch_size`` in
one transaction, so a busy queue costs one commit per batch rather than one per message; if
anything in a batch fails, its messages are handled again one at a time so that one bad
message is isolated and the others go through.

Fields marked sensitive arrive sealed and are opened before validation, so handlers see them
in clear. A message that fails validation is dead-lettered at once. A handler that raises is
retried by republishing the message at the tail of the queue (so it never blocks the messages
behind it) and dead-lettered after ``max_attempts``. The same rules hold on RabbitMQ and on the
filesystem transport; on RabbitMQ the quorum queue's delivery limit also catches a message
that keeps killing its consumer outright (the broker moves it as it is, its secrets sealed).
What the consumer dead-letters has its sensitive fields redacted: a dead queue keeps no
secret, not even a sealed one.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Producer
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.connection import BusAddress
from contracts.bus.metrics import bus_metrics
from contracts.bus.sealing import Sealer, open_sensitive
from contracts.bus.topology import Topology
from contracts.events.codec import ContractViolation, decode, redact
from contracts.events.envelope import Event

log = logging.getLogger(__name__)

Handler = Callable[[Session, Event], None]


@dataclass(frozen=True)
class HandleMany:
    """A handler that takes every event of its type in a consumer batch at once, for work
    that is cheaper in bulk (one multi-row INSERT instead of one per event)."""

    handle: Callable[[Session, Sequence[Event]], None]


AnyHandler = Handler | HandleMany

ATTEMPTS_HEADER = "x-nexam-attempts"
REASON_HEADER = "x-nexam-reason"


class EventConsumer(ConsumerMixin):  # type: ignore[misc]
    def __init__(
        self,
        service: str,
        sessions: sessionmaker[Session],
        inbox: Table,
        handlers: Mapping[str, AnyHandler],
        bus: BusAddress,
        topology: Topology,
        *,
        max_attempts: int = 5,
        batch_size: int = 50,
        linger: float = 0.01,
        sealer: Sealer | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.inbox = inbox
        self.handlers = dict(handlers)
        self.bus = bus
        self.topology = topology
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.linger = linger
        self.sealer = sealer
        self.connection: Connection = bus.connect()
        self._metrics = bus_metrics()
        self._pause = threading.Event()
        self._pending: list[tuple[Event, Message, Any]] = []

    # kombu's ConsumerMixin hooks
    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Any]:
        self.topology.declare(self.connection)
        return [
            consumer_class(
                queues=[self.topology.queue(self.service)],
                on_message=self.on_message,
                prefetch_count=self.batch_size * 2,
                accept=["json"],
            )
        ]

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        log.warning(
            "%s consumer lost the bus (%s); retrying in %ss",
            self.service,
            exc,
            interval,
        )

    def consume(
        self,
        limit: int | None = None,
        timeout: float | None = None,
        safety_interval: float = 1,
        **kwargs: Any,
    ) -> Iterator[None]:
        """kombu's loop, except that a short wait with messages in hand flushes the batch."""
        self._pending.clear()  # after a reconnect the broker redelivers whatever was unacked
        with self.consumer_context(**kwargs) as (connection, _channel, _consumers):
            while not self.should_stop:
                try:
                    connection.drain_events(
                        timeout=self.linger if self._pending else safety_interval
                    )
                except TimeoutError:
                    self._flush()
                    connection.heartbeat_check()
                except OSError:
                    if not self.should_stop:
                        raise
                else:
                    if len(self._pending) >= self.batch_size:
                        self._flush()
                    yield
            self._flush()

    def run_until(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set (from another thread or a signal handler)."""
        watcher = threading.Thread(target=self._stop_when, args=(stop,), daemon=True)
        watcher.start()
        self.run()

    def _stop_when(self, stop: threading.Event) -> None:
        stop.wait()
        self.should_stop = True

    def on_message(self, message: Message) -> None:
        raw = message.body
        try:
            body = json.loads(raw)
        except ValueError:
            self._dead_letter(message, raw, "not a JSON message", event_type="?")
            return
        try:
            event = decode(open_sensitive(body, self.sealer) if isinstance(body, dict) else body)
        except ContractViolation as exc:
            reason = f"contract violation: {exc} {exc.errors or ''}".strip()
            self._dead_letter(message, raw, reason, event_type=str(body.get("type", "?")))
            return
        if event.type not in self.handlers:
            self._dead_letter(
                message, raw, f"{self.service} has no handler for {event.type}", event.type
            )
            return
        self._pending.append((event, message, raw))

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        if len(batch) > 1:
            try:
                outcomes = self._handle_together([event for event, _m, _r in batch])
            except OperationalError as exc:  # the database is away: put them all back, once
                self._put_back(batch, exc)
                return
            except Exception:  # isolate the culprit: handle each on its own below
                log.info(
                    "%s: a batch of %d failed; handling one at a time", self.service, len(batch)
                )
            else:
                self._ack_all([message for _e, message, _r in batch])
                for (event, _message, _raw), outcome in zip(batch, outcomes, strict=True):
                    self._metrics.consumed.labels(self.service, event.type, outcome).inc()
                return
        for event, message, raw in batch:
            self._handle_one(event, message, raw)

    def _ack_all(self, messages: list[Message]) -> None:
        """Ack a handled batch: on RabbitMQ with one ``multiple`` ack of its last message.
        That settles exactly the batch, since every message received before it was either
        held in the batch or already acked (dead-lettered or put back) when it arrived.
        The filesystem transport knows no ``multiple`` and is acked one by one."""
        if self.bus.is_filesystem:
            for message in messages:
                message.ack()
        else:
            messages[-1].ack(multiple=True)

    def _handle_one(self, event: Event, message: Message, raw: Any) -> None:
        try:
            (outcome,) = self._handle_together([event])
        except OperationalError as exc:  # the database is away: not the message's fault
            self._put_back([(event, message, raw)], exc)
            return
        except Exception as exc:
            log.exception("%s: handler for %s %s failed", self.service, event.type, event.id)
            self._retry_or_dead_letter(message, raw, event.type, f"{type(exc).__name__}: {exc}")
            return
        message.ack()
        self._metrics.consumed.labels(self.service, event.type, outcome).inc()

    def _put_back(self, batch: list[tuple[Event, Message, Any]], exc: OperationalError) -> None:
        log.warning("%s: database unavailable, %d put back: %s", self.service, len(batch), exc.orig)
        for _event, message, raw in batch:
            self._republish(
                message, raw, attempts=self._attempts(message), reason="database unavailable"
            )
        self._pause.wait(1.0)

    def _handle_together(self, events: list[Event]) -> list[str]:
        """Run the handlers of ``events`` in one transaction; each outcome is ``handled`` or
        ``duplicate`` (its id was already in the inbox). Consecutive events of a type whose
        handler is a ``HandleMany`` are given to it together, in order."""
        outcomes: list[str] = []
        with self.sessions() as session, session.begin():
            unseen = self._record_in_inbox(session, events)
            fresh = []
            for event in events:  # the same event twice in one batch runs once
                if event.id in unseen:
                    unseen.discard(event.id)
                    fresh.append(event)
                    outcomes.append("handled")
                else:
                    outcomes.append("duplicate")
            run: list[Event] = []
            for event in fresh:
                if run and event.type != run[0].type:
                    self._dispatch(session, run)
                    run = []
                run.append(event)
            if run:
                self._dispatch(session, run)
        return outcomes

    def _dispatch(self, session: Session, run: list[Event]) -> None:
        handler = self.handlers[run[0].type]
        if isinstance(handler, HandleMany):
            handler.handle(session, run)
            return
        for event in run:
            handler(session, event)

    @functools.cache  # noqa: B019 (one consumer per process, kept for its whole life)
    def _inbox_insert(self, dialect: str) -> Any:
        module = postgresql if dialect == "postgresql" else sqlite
        return module.insert(self.inbox).on_conflict_do_nothing().returning(self.inbox.c.event_id)

    def _record_in_inbox(self, session: Session, events: list[Event]) -> set[uuid.UUID]:
        """Insert the events' ids into the inbox; return the ids that were not there yet.
        On PostgreSQL a twin delivery being handled concurrently waits for the other's
        commit, then counts as already there."""
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {"event_id": e.id, "event_type": e.type, "handled_at": now} for e in events
        ]
        dialect = session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            inserted = session.execute(self._inbox_insert(dialect), rows).scalars()
            return set(inserted)
        new: set[uuid.UUID] = set()
        for row in rows:
            known = select(self.inbox.c.event_id).where(self.inbox.c.event_id == row["event_id"])
            if row["event_id"] in new or session.scalar(known) is not None:
                continue
            try:
                with session.begin_nested():
                    session.execute(insert(self.inbox).values(**row))
            except IntegrityError:
                continue
            new.add(row["event_id"])
        return new

    @staticmethod
    def _attempts(message: Message) -> int:
        try:
            return int((message.headers or {}).get(ATTEMPTS_HEADER, 0))
        except (TypeError, ValueError):
            return 0

    def _retry_or_dead_letter(
        self, message: Message, raw: Any, event_type: str, reason: str
    ) -> None:
        attempts = self._attempts(message) + 1
        if attempts >= self.max_attempts:
            self._dead_letter(message, raw, f"failed {attempts} times; last: {reason}", event_type)
            return
        self._republish(message, raw, attempts=attempts, reason=reason)
        self._metrics.consumed.labels(self.service, event_type, "retried").inc()

    def _republish(self, message: Message, raw: Any, *, attempts: int, reason: str) -> None:
        headers = dict(message.headers or {})
        headers.update({ATTEMPTS_HEADER: attempts, REASON_HEADER: reason[:500]})
        Producer(message.channel).publish(
            raw,
            exchange="",
            routing_key=self.topology.queue_name(self.service),
            headers=headers,
            **self._properties(message),
        )
        message.ack()

    def _dead_letter(self, message: Message, raw: Any, reason: str, event_type: str) -> None:
        log.error(
            "%s: dead-lettering a %s message: %s",
            self.service,
            event_type,
            reason[:300],
        )
        headers = dict(message.headers or {})
        headers.update(
            {
                REASON_HEADER: reason[:1000],
                "x-nexam-original-routing-key": message.delivery_info.get("routing_key", ""),
            }
        )
        Producer(message.channel).publish(
            _redacted(raw),
            exchange=self.topology.dead_exchange,
            routing_key=self.service,
            headers=headers,
            **self._properties(message),
        )
        message.ack()
        self._metrics.consumed.labels(self.service, event_type, "dead_lettered").inc()

    @staticmethod
    def _properties(message: Message) -> dict[str, Any]:
        return {
            "content_type": message.content_type or "application/json",
            "content_encoding": message.content_encoding or "utf-8",
            "delivery_mode": 2,
            "message_id": message.properties.get("message_id"),
            "retry": False,
        }


def _redacted(raw: Any) -> Any:
    """The body of a message with its sensitive fields replaced; one that is not an
    envelope is passed on as it came (no producer of ours wrote it)."""
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        return raw
    return json.dumps(redact(body)) if isinstance(body, dict) else raw


def note_receipt(session: Session, event: Event) -> None:
    """A handler for events whose use case has not landed yet: the inbox records the event
    once and the log says it arrived."""
    log.info("received %s %s from %s", event.type, event.id, event.producer)
