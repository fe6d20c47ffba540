"""A bus world for tests: a private pair of exchanges and one consuming service queue on a
real transport, a database with an outbox, an inbox and an ``effects`` table written by the
handler, and ways to run the relay and the consumer in threads or in other processes."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kombu import Connection
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Uuid, func, insert, select
from sqlalchemy.orm import Session

from contracts.bus import BusAddress, EventConsumer, Outbox, Relay, Topology
from contracts.bus.sealing import Sealer
from contracts.bus.tables import inbox_table, outbox_table
from contracts.events.envelope import Event
from contracts.runtime.database import make_engine, make_sessions
from contracts.runtime.keyfiles import read_secret_file

PRODUCER = "invitations"
EVENT_TYPE = "InvitationIssued"
POISON = "Poison"


def invitation_data(first_name: str = "Ada") -> dict[str, Any]:
    return {
        "invitation_id": uuid.uuid4(),
        "institution_id": uuid.uuid4(),
        "email": "ada.lovelace@example.org",
        "first_name": first_name,
        "last_name": "Lovelace",
        "language": "en",
        "evaluation": {"ref": "MATH101-FINAL-2026", "name": "Mathematics 101"},
        "account_exists": False,
        "code": "7KQ2-M9XD-4PRT-WZ3H",
        "expires_at": datetime.now(UTC) + timedelta(days=30),
    }


@dataclass(frozen=True)
class WorldSpec:
    bus_url: str
    database_url: str
    tag: str
    handler_delay: float = 0.0
    max_attempts: int = 3

    @property
    def service(self) -> str:
        return f"t{self.tag}-consumer"

    def topology(self) -> Topology:
        return Topology(
            events_exchange_name=f"t{self.tag}.events",
            dead_exchange_name=f"t{self.tag}.dead",
            subscriptions={self.service: ((EVENT_TYPE, 1),)},
        )


class BusWorld:
    def __init__(self, spec: WorldSpec, var_dir: Path) -> None:
        self.spec = spec
        self.var_dir = var_dir
        self.metadata = MetaData()
        self.outbox_table = outbox_table(self.metadata)
        self.inbox_table = inbox_table(self.metadata)
        self.effects = Table(
            "effects",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", Uuid, nullable=False),
            Column("handled_at", DateTime(timezone=True), nullable=False),
        )
        self._effect = insert(self.effects)
        self.engine = make_engine(spec.database_url)
        self.sessions = make_sessions(self.engine)
        self.bus = BusAddress(spec.bus_url, var_dir)
        self.topology = spec.topology()
        # one key file in the world's folder: the processes a test spawns share it
        key = read_secret_file(
            var_dir / "keys" / "bus-seal.key", generate=lambda: secrets.token_hex(32).encode()
        )
        self.sealer = Sealer(key.strip())
        self.outbox = Outbox(self.metadata, PRODUCER, sealer=self.sealer)

    @classmethod
    def create(cls, spec: WorldSpec, var_dir: Path) -> BusWorld:
        world = cls(spec, var_dir)
        world.metadata.create_all(world.engine)
        with world.bus.connect() as connection:
            world.topology.declare(connection)
        return world

    # producing
    def stage(self, count: int, first_name: str = "Ada") -> list[uuid.UUID]:
        with self.sessions() as session, session.begin():
            return [
                self.outbox.add(session, EVENT_TYPE, invitation_data(first_name)).id
                for _ in range(count)
            ]

    def relay(self) -> Relay:
        return Relay(self.engine, self.outbox_table, self.bus, self.topology, PRODUCER)

    def publish_raw(self, body: bytes, routing_key: str = f"{PRODUCER}.{EVENT_TYPE}") -> None:
        with self.bus.connect() as connection:
            connection.Producer().publish(
                body,
                exchange=self.topology.events_exchange,
                routing_key=routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )

    # consuming
    def handle(self, session: Session, event: Event) -> None:
        if event.data["first_name"] == POISON:
            raise RuntimeError("this event always fails")
        if self.spec.handler_delay:
            time.sleep(self.spec.handler_delay)  # a slow handler, so a kill lands mid-stream
        session.execute(self._effect, {"event_id": event.id, "handled_at": datetime.now(UTC)})

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.spec.service,
            self.sessions,
            self.inbox_table,
            {EVENT_TYPE: self.handle},
            self.bus,
            self.topology,
            max_attempts=self.spec.max_attempts,
            sealer=self.sealer,
        )

    # observing
    def effect_counts(self) -> tuple[int, int]:
        """(effects, distinct events with an effect)"""
        with self.engine.connect() as db:
            total = db.scalar(select(func.count()).select_from(self.effects)) or 0
            distinct = db.scalar(select(func.count(func.distinct(self.effects.c.event_id)))) or 0
        return int(total), int(distinct)

    def unsent(self) -> int:
        return self.relay().pending_count()

    def take_dead(self) -> list[tuple[dict[str, Any], bytes]]:
        """Every message in the dead queue, as (headers, body)."""
        taken = []
        with self.bus.connect() as connection:
            queue = self.topology.dead_queue(self.spec.service)(connection.default_channel)
            while (message := queue.get(no_ack=True)) is not None:
                taken.append((dict(message.headers or {}), message.body))
        return taken

    def tear_down(self) -> None:
        if not self.bus.is_filesystem:
            with self.bus.connect() as connection:
                channel = connection.default_channel
                for queue in self.topology.queues():
                    queue(channel).delete()
                self.topology.events_exchange(channel).delete()
                self.topology.dead_exchange(channel).delete()
        self.engine.dispose()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running(target: Callable[[threading.Event], None]) -> Iterator[threading.Event]:
    """Run a relay's or consumer's loop in a thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=15)


def spawn(role: str, spec: WorldSpec, var_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    """Start ``python -m contracts.testing.busproc ROLE`` on the same world."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contracts.testing.busproc",
            role,
            json.dumps(asdict(spec)),
            str(var_dir),
            *extra,
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def amqp_connection(url: str) -> Connection:
    return Connection(url, connect_timeout=5)
