"""`make bench-bus`: N events through outbox -> RabbitMQ -> consumer with inbox, and in the
same run raw kombu publish-with-confirm and consume of the same messages. Prints both rates
and their ratio. Settings: BENCH_EVENTS (default 5000), AMQP_URL, DATABASE_URL (PostgreSQL
server; SQLite under a temporary folder when unset)."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path

import summary
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, make_url, text
from summary import at_least, told

from contracts.events.codec import encode
from contracts.events.envelope import Event
from contracts.testing.bus import BusWorld, WorldSpec, invitation_data, spawn, wait_until

N = int(os.environ.get("BENCH_EVENTS", 5000))
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def fresh_database(folder: Path) -> tuple[str, object]:
    server = os.environ.get("DATABASE_URL")
    if not server:
        return f"sqlite:///{folder}/bench.db", None
    base = make_url(server).set(drivername="postgresql+psycopg")
    name = f"nexam_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), (admin, name)


def drop_database(handle: object) -> None:
    if handle is None:
        return
    admin, name = handle  # type: ignore[misc]
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def bench_platform(folder: Path) -> tuple[float, float, str]:
    """The relay and the consumer each in its own process, as the platform runs them (the
    producer's worker and the consumer's worker), both loaded before the clock starts."""
    url, handle = fresh_database(folder)
    spec = WorldSpec(AMQP_URL, url, uuid.uuid4().hex[:10])
    world = BusWorld.create(spec, folder)
    roles = ("consumer", "relay")
    processes = [spawn(role, spec, folder, "--on-signal") for role in roles]
    try:
        started = time.perf_counter()
        for _ in range(N // 500):
            world.stage(500)
        world.stage(N % 500)
        staged = time.perf_counter() - started
        wait_until(lambda: all((folder / f"{r}.ready").exists() for r in roles), 60, "ready")
        started = time.perf_counter()
        for process in processes:
            process.send_signal(signal.SIGUSR1)
        wait_until(lambda: world.effect_counts()[1] == N, 600, f"{N} effects")
        carried = time.perf_counter() - started
        assert world.effect_counts() == (N, N)
        return staged, carried, make_url(url).get_backend_name()
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        world.tear_down()
        drop_database(handle)


def bench_raw() -> float:
    body = json.dumps(encode(Event("InvitationIssued", 1, "invitations", invitation_data())))
    exchange = Exchange(f"raw{uuid.uuid4().hex[:8]}", type="topic", durable=True)
    queue = Queue(
        f"{exchange.name}-q",
        exchange,
        routing_key="#",
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    received = 0
    with Connection(AMQP_URL, transport_options={"confirm_publish": True}) as connection:
        channel = connection.default_channel
        queue(channel).declare()
        producer = connection.Producer(exchange=exchange)
        started = time.perf_counter()
        for _ in range(N):
            producer.publish(
                body,
                routing_key="invitations.InvitationIssued",
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
            )

        def on_message(message: object) -> None:
            nonlocal received
            json.loads(message.body)  # type: ignore[attr-defined]
            message.ack()  # type: ignore[attr-defined]
            received += 1

        with connection.Consumer(queue, on_message=on_message, prefetch_count=20):
            while received < N:
                connection.drain_events(timeout=10)
        elapsed = time.perf_counter() - started
        queue(channel).delete()
        exchange(channel).delete()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        staged, carried, backend = bench_platform(Path(folder))
    raw = bench_raw()
    platform_rate, raw_rate = N / carried, N / raw
    print(f"bench-bus: {N} events through RabbitMQ, outbox and inbox on {backend}")
    print(f"  staging in the outbox ........ {N / staged:9.0f} events/s ({staged:.2f} s)")
    print(
        f"  outbox -> relay -> consumer .. {platform_rate:9.0f} events/s "
        f"({carried:.2f} s, each handled once)"
    )
    print(f"  raw kombu confirm + consume .. {raw_rate:9.0f} events/s ({raw:.2f} s)")
    print(f"  ratio platform / raw ......... {platform_rate / raw_rate:9.2f}")
    figures = [
        told("outbox -> relay -> consumer", platform_rate, "events/s", 0),
        told("raw kombu confirm per message + consume", raw_rate, "events/s", 0),
        at_least("ratio platform / raw", platform_rate / raw_rate, 2.0),
    ]
    recorded = summary.record("bench-bus", f"RabbitMQ, outbox on {backend}, {N:,} events", figures)
    print(f"  figures recorded in {recorded.relative_to(summary.ROOT)}")


if __name__ == "__main__":
    main()
