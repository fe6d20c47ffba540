"""The notifier's worker, ``notifier.worker.main`` in a thread: events arrive on the bus (on
RabbitMQ and on the filesystem transport), emails reach a real SMTP server, and
EmailDelivered goes back out on the bus to the invitations service's queue."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from notifier_testkit import SmtpServer, invitation, notifier_environ, smtp_server
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from contracts.bus import BusAddress, Topology
from contracts.events.codec import encode
from contracts.events.envelope import Event
from contracts.runtime.migrations import upgrade
from contracts.testing.bus import wait_until
from notifier import store
from notifier.worker import main


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def environ(
    tmp_path: Path, database_url: str, bus_url: str, smtp: SmtpServer
) -> Iterator[dict[str, str]]:
    environ = notifier_environ(
        tmp_path,
        database_url,
        smtp.port,
        BUS_URL=bus_url,
        BUS_NAMESPACE=f"t{uuid.uuid4().hex[:10]}",  # a private set of exchanges and queues
        NOTIFIER_WORKER_METRICS_PORT="0",
        MAIL_DELIVERY_INTERVAL_SECONDS="0.05",
    )
    upgrade("notifier", database_url)
    yield environ
    if not bus_of(environ).is_filesystem:
        topology = topology_of(environ)
        with bus_of(environ).connect() as connection:
            channel = connection.default_channel
            for queue in topology.queues():
                queue(channel).delete()
            topology.events_exchange(channel).delete()
            topology.dead_exchange(channel).delete()


def bus_of(environ: dict[str, str]) -> BusAddress:
    return BusAddress(environ["BUS_URL"], Path(environ["NEXAM_VAR_DIR"]))


def topology_of(environ: dict[str, str]) -> Topology:
    return Topology.for_namespace(environ["BUS_NAMESPACE"])


@contextmanager
def running_worker(environ: dict[str, str]) -> Iterator[None]:
    """``python -m notifier.worker``, in a thread."""
    stop = threading.Event()
    thread = threading.Thread(target=main, args=(environ, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()


def publish(environ: dict[str, str], *events: Event) -> None:
    topology = topology_of(environ)
    with bus_of(environ).connect() as connection:
        topology.declare(connection)
        producer = connection.Producer()
        for one in events:
            producer.publish(
                json.dumps(encode(one)),
                exchange=topology.events_exchange,
                routing_key=one.routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


class InvitationsQueue:
    """The invitations service's queue, read by the test: what the notifier tells it."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.taken: list[dict[str, Any]] = []

    def take(self) -> int:
        with bus_of(self.environ).connect() as connection:
            queue = topology_of(self.environ).queue("invitations")(connection.default_channel)
            while (message := queue.get(no_ack=True)) is not None:
                self.taken.append(json.loads(message.body))
        return len(self.taken)


def unsent_events(environ: dict[str, str]) -> int:
    engine = create_engine(environ["NOTIFIER_DATABASE_URL"], poolclass=NullPool)
    try:
        with engine.connect() as db:
            return int(
                db.scalar(
                    select(func.count())
                    .select_from(store.outbox)
                    .where(store.outbox.c.sent_at.is_(None))
                )
                or 0
            )
    finally:
        engine.dispose()


def test_a_queued_email_is_sent_at_once_not_at_the_next_round(
    environ: dict[str, str], smtp: SmtpServer
) -> None:
    """With both roles in one process, the consumer wakes the delivery job: an email arrives
    even when the job's own round would come only in an hour."""
    environ = {**environ, "MAIL_DELIVERY_INTERVAL_SECONDS": "3600"}
    publish(environ, invitation())
    with running_worker(environ):
        wait_until(lambda: len(smtp.received) >= 1, 30, "the email at the SMTP server")


def test_an_invitation_on_the_bus_reaches_the_candidate_once(
    environ: dict[str, str], smtp: SmtpServer
) -> None:
    issued = invitation(language="fr")
    sentinel = invitation(email="grace.hopper@example.org")
    publish(environ, issued, issued, sentinel)  # the broker delivers the first one twice
    invitations = InvitationsQueue(environ)

    with running_worker(environ):
        wait_until(lambda: len(smtp.received) >= 2, 30, "two emails at the SMTP server")
        wait_until(lambda: invitations.take() >= 2, 30, "two EmailDelivered on the bus")

    subjects = sorted(str(r.message["Subject"]) for r in smtp.received)
    assert subjects == ["Invitation to Nexam", "Invitation à Nexam"]
    ids = sorted(str(r.message["Message-ID"]) for r in smtp.received)
    assert ids == sorted(f"<{e.id}@nexam.test>" for e in (issued, sentinel))
    assert {d["type"] for d in invitations.taken} == {"EmailDelivered"}
    assert sorted(d["data"]["source_event_id"] for d in invitations.taken) == sorted(
        str(e.id) for e in (issued, sentinel)
    )
    assert unsent_events(environ) == 0
