"""The consumer: validates each message against its contract, runs the service's handler in
a database transaction that also records the event id in the inbox, and acks only after that
transaction commits. A redelivered or duplicated event finds its id in the inbox and is
acked without running the handler again.

A message that fails validation is dead-lettered at once. A handler that raises is retried by
republishing the message at the tail of the queue (so it never blocks the messages behind it)
and dead-lettered after ``max_attempts``. The same rules hold on RabbitMQ and on the
filesystem transport; on RabbitMQ the quorum queue's delivery limit also catches a message
that keeps killing its consumer outright.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Producer
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.connection import BusAddress
from contracts.bus.metrics import bus_metrics
from contracts.bus.topology import Topology
from contracts.codec import ContractViolation, decode
from contracts.envelope import Event

log = logging.getLogger(__name__)

Handler = Callable[[Session, Event], None]

ATTEMPTS_HEADER = "x-nexam-attempts"
REASON_HEADER = "x-nexam-reason"


class EventConsumer(ConsumerMixin):  # type: ignore[misc]
    def __init__(
        self,
        service: str,
        sessions: sessionmaker[Session],
        inbox: Table,
        handlers: Mapping[str, Handler],
        bus: BusAddress,
        topology: Topology,
        *,
        max_attempts: int = 5,
        prefetch: int = 20,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.inbox = inbox
        self.handlers = dict(handlers)
        self.bus = bus
        self.topology = topology
        self.max_attempts = max_attempts
        self.prefetch = prefetch
        self.connection: Connection = bus.connect()
        self._metrics = bus_metrics()
        self._pause = threading.Event()

    # kombu's ConsumerMixin hooks
    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Any]:
        self.topology.declare(self.connection)
        return [
            consumer_class(
                queues=[self.topology.queue(self.service)],
                on_message=self.on_message,
                prefetch_count=self.prefetch,
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
            event = decode(body)
        except ContractViolation as exc:
            reason = f"contract violation: {exc} {exc.errors or ''}".strip()
            self._dead_letter(message, raw, reason, event_type=str(body.get("type", "?")))
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            self._dead_letter(
                message,
                raw,
                f"{self.service} has no handler for {event.type}",
                event.type,
            )
            return
        try:
            outcome = self._handle(event, handler)
        except OperationalError as exc:  # the database is away: not the message's fault
            log.warning(
                "%s: database unavailable, %s put back: %s",
                self.service,
                event.id,
                exc.orig,
            )
            self._republish(
                message,
                raw,
                attempts=self._attempts(message),
                reason="database unavailable",
            )
            self._pause.wait(1.0)
            return
        except Exception as exc:
            log.exception("%s: handler for %s %s failed", self.service, event.type, event.id)
            self._retry_or_dead_letter(message, raw, event.type, f"{type(exc).__name__}: {exc}")
            return
        message.ack()
        self._metrics.consumed.labels(self.service, event.type, outcome).inc()

    def _handle(self, event: Event, handler: Handler) -> str:
        try:
            with self.sessions() as session, session.begin():
                if session.scalar(
                    select(self.inbox.c.event_id).where(self.inbox.c.event_id == event.id)
                ):
                    return "duplicate"
                session.execute(
                    insert(self.inbox).values(
                        event_id=event.id,
                        event_type=event.type,
                        handled_at=datetime.now(UTC),
                    )
                )
                handler(session, event)
            return "handled"
        except IntegrityError:
            if self._already_handled(event):  # a twin delivery committed first
                return "duplicate"
            raise

    def _already_handled(self, event: Event) -> bool:
        with self.sessions() as session:
            found = session.scalar(
                select(self.inbox.c.event_id).where(self.inbox.c.event_id == event.id)
            )
            return found is not None

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
            routing_key=self.service,
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
            raw,
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


def note_receipt(session: Session, event: Event) -> None:
    """A handler for events whose use case has not landed yet: the inbox records the event
    once and the log says it arrived."""
    log.info("received %s %s from %s", event.type, event.id, event.producer)
