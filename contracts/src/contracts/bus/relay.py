"""The outbox relay: publishes staged events with publisher confirms and marks a row sent
only once the broker has acknowledged it. Rows are claimed with ``FOR UPDATE SKIP LOCKED``,
so several relays can share one PostgreSQL outbox (SQLite has one writer at a time anyway).

Marking a row sent also redacts its sealed fields (DESIGN section 5): once the broker has the
event, the outbox keeps no secret, not even a sealed one that a stolen key would open."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from kombu import Connection, Producer
from sqlalchemy import Connection as DbConnection
from sqlalchemy import Engine, Table, bindparam, delete, func, or_, select, update

from contracts.bus.confirms import (
    DirectPublisher,
    Outgoing,
    PartialPublish,
    PipelinedConfirms,
    Publisher,
)
from contracts.bus.connection import BusAddress
from contracts.bus.metrics import bus_metrics
from contracts.bus.sealing import carries_secret
from contracts.bus.topology import Topology
from contracts.events.clock import Clock, utcnow
from contracts.events.codec import REDACTED, redact, sensitive_paths
from contracts.events.schemas import CONTRACTS

log = logging.getLogger(__name__)

#: (routing key, paths of the sensitive fields) of each contract that has any
_SENSITIVE = [
    (c.routing_key, paths)
    for c in CONTRACTS
    if (paths := sensitive_paths({"type": c.type, "version": c.version}))
]


class Relay:
    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        bus: BusAddress,
        topology: Topology,
        producer: str,
        *,
        batch_size: int = 200,
        keep_sent_for: timedelta = timedelta(days=7),
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.bus = bus
        self.topology = topology
        self.producer = producer
        self.batch_size = batch_size
        self.keep_sent_for = keep_sent_for
        self.clock = clock
        self._metrics = bus_metrics()
        self._redacted_old_rows = False
        self._next_housekeeping = 0.0

    def publish_pending(self, publisher: Publisher) -> int:
        """Publish one batch of unsent events; return how many the broker confirmed."""
        t = self.outbox
        failure: BaseException | None = None
        with self.engine.connect() as db, db.begin():
            rows = db.execute(
                select(t.c.position, t.c.event_id, t.c.routing_key, t.c.body)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.position)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            outgoing = [
                Outgoing(
                    json.dumps(r.body), r.routing_key, r.body["id"], r.body.get("correlation_id")
                )
                for r in rows
            ]
            try:
                flags = publisher.publish(outgoing)
            except PartialPublish as partial:  # the confirmed part of the batch is still marked
                flags, failure = partial.confirmed, partial.cause
            confirmed = [r for r, ok in zip(rows, flags, strict=False) if ok]
            for row in confirmed:
                self._metrics.published.labels(self.producer, row.body["type"]).inc()
            if confirmed:
                self._mark_sent(db, confirmed)
        if failure is not None:
            raise failure
        return len(confirmed)

    def _mark_sent(self, db: DbConnection, rows: Sequence[Any]) -> None:
        """``rows``: the claimed rows the broker acked (``position`` and ``body``)."""
        now = self.clock()
        t = self.outbox
        secret = {r.position: r.body for r in rows if carries_secret(r.body)}
        plain = [r.position for r in rows if r.position not in secret]
        if plain:
            db.execute(update(t).where(t.c.position.in_(plain)).values(sent_at=now))
        if secret:
            db.execute(
                update(t)
                .where(t.c.position == bindparam("_position"))
                .values(sent_at=now, body=bindparam("_body")),
                [{"_position": p, "_body": redact(body)} for p, body in secret.items()],
            )

    def redact_sent(self, batch_size: int = 500) -> int:
        """Redact the rows already sent that still hold a sensitive value (written before
        sealing existed); return how many. Run once by each relay, then never needed."""
        t = self.outbox
        done = 0
        for key, paths in _SENSITIVE:
            holding = [
                t.c.body[("data", *path)].as_string().is_not(None)
                & (t.c.body[("data", *path)].as_string() != REDACTED)
                for path in paths
            ]
            while True:
                with self.engine.begin() as db:
                    rows = db.execute(
                        select(t.c.position, t.c.body)
                        .where(t.c.sent_at.is_not(None), t.c.routing_key == key, or_(*holding))
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    ).all()
                    if rows:
                        db.execute(
                            update(t)
                            .where(t.c.position == bindparam("_position"))
                            .values(body=bindparam("_body")),
                            [{"_position": r.position, "_body": redact(r.body)} for r in rows],
                        )
                done += len(rows)
                if len(rows) < batch_size:
                    break
        return done

    def pending_count(self) -> int:
        with self.engine.connect() as db:
            return int(
                db.scalar(
                    select(func.count())
                    .select_from(self.outbox)
                    .where(self.outbox.c.sent_at.is_(None))
                )
                or 0
            )

    def prune(self) -> int:
        """Forget rows sent long ago; the outbox is not an archive."""
        cutoff = self.clock() - self.keep_sent_for
        with self.engine.begin() as db:
            result = db.execute(
                delete(self.outbox).where(
                    self.outbox.c.sent_at.is_not(None), self.outbox.c.sent_at < cutoff
                )
            )
            return int(result.rowcount or 0)

    def run(self, stop: threading.Event, *, idle_interval: float = 0.05) -> None:
        """Relay until ``stop`` is set, reconnecting with backoff when the broker or the
        database goes away; nothing is lost meanwhile, rows simply stay unsent."""
        backoff = 0.2
        while not stop.is_set():
            try:
                with self.bus.connect() as connection:
                    publisher = self._open(connection)
                    try:
                        backoff = 0.2
                        self._relay_until(stop, publisher, idle_interval)
                    finally:
                        publisher.close()
            except Exception as exc:  # keep relaying whatever fails; rows stay unsent
                log.warning("outbox relay of %s paused: %s", self.producer, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _relay_until(
        self, stop: threading.Event, publisher: Publisher, idle_interval: float
    ) -> None:
        while not stop.is_set():
            if self.publish_pending(publisher):
                continue
            if time.monotonic() >= self._next_housekeeping:
                self._metrics.outbox_pending.labels(self.producer).set(self.pending_count())
                self.prune()
                if not self._redacted_old_rows:
                    self.redact_sent()
                    self._redacted_old_rows = True
                self._next_housekeeping = time.monotonic() + 60
            stop.wait(idle_interval)

    def _open(self, connection: Connection) -> Publisher:
        connection.ensure_connection(max_retries=1)
        self.topology.declare(connection)
        if self.bus.is_filesystem:
            producer = Producer(connection.default_channel)
            return DirectPublisher(producer, self.topology.events_exchange)
        return PipelinedConfirms(self.bus.url, self.topology.events_exchange_name)
