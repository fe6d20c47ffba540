"""Fault injection on the real broker and database: RabbitMQ stopped and started in the
middle of a stream, several relays sharing one PostgreSQL outbox."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from contracts.testing.bus import EVENT_TYPE, BusWorld, WorldSpec, running, spawn, wait_until


@pytest.fixture
def world(amqp_url: str, postgres_url: str, tmp_path: Path) -> Iterator[BusWorld]:
    spec = WorldSpec(bus_url=amqp_url, database_url=postgres_url, tag=uuid.uuid4().hex[:10])
    made = BusWorld.create(spec, tmp_path)
    yield made
    made.tear_down()


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


@pytest.fixture
def broker_control(amqp_url: str) -> Iterator[None]:
    local = "127.0.0.1" in amqp_url or "localhost" in amqp_url
    if shutil.which("rabbitmqctl") is None or not local:
        reason = "stopping the broker needs rabbitmqctl and a local RabbitMQ"
        if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
        pytest.skip(reason)
    yield
    rabbitmqctl("start_app")  # whatever happened, leave the broker running


def test_the_service_queue_is_a_quorum_queue_with_a_delivery_limit_and_dead_letters(
    world: BusWorld, broker_control: None
) -> None:
    queues = {
        q["name"]: q
        for q in json.loads(
            rabbitmqctl("list_queues", "name", "type", "arguments", "--formatter", "json")
        )
    }
    service = world.spec.service
    assert queues[service]["type"] == "quorum"
    arguments = {name: value for name, _kind, value in queues[service]["arguments"]}
    assert arguments["x-delivery-limit"] == world.topology.delivery_limit
    assert arguments["x-dead-letter-exchange"] == world.topology.dead_exchange_name
    assert queues[f"{service}.dead"]["type"] == "quorum"


def test_1000_events_across_a_broker_restart_arrive_exactly_once(
    world: BusWorld, broker_control: None, tmp_path: Path
) -> None:
    relay = spawn("relay", world.spec, tmp_path)
    consumer = spawn("consumer", world.spec, tmp_path)
    try:
        for _ in range(20):
            world.stage(20)
        wait_until(lambda: world.effect_counts()[0] >= 100, 60, "the stream to be flowing")
        rabbitmqctl("stop_app")
        for _ in range(15):
            world.stage(20)  # written while the broker is down: the outbox keeps them
        assert world.unsent() >= 300
        rabbitmqctl("start_app")
        for _ in range(15):
            world.stage(20)
        wait_until(lambda: world.effect_counts()[1] == 1000, 180, "all 1000 effects")
        wait_until(lambda: world.unsent() == 0, 30, "every outbox row marked sent")
    finally:
        for process in (relay, consumer):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert world.effect_counts() == (1000, 1000)


def test_several_relays_on_one_postgres_outbox_publish_each_event_once(world: BusWorld) -> None:
    def published() -> float:
        labels = {"producer": "invitations", "type": EVENT_TYPE}
        return REGISTRY.get_sample_value("nexam_bus_published_total", labels) or 0.0

    def duplicates() -> float:
        labels = {"service": world.spec.service, "type": EVENT_TYPE, "outcome": "duplicate"}
        return REGISTRY.get_sample_value("nexam_bus_consumed_total", labels) or 0.0

    world.stage(1000)
    before = published()
    with running(world.consumer().run_until):
        with running(world.relay().run), running(world.relay().run), running(world.relay().run):
            wait_until(lambda: world.unsent() == 0, 60, "the relays to drain the outbox")
        wait_until(lambda: world.effect_counts()[1] == 1000, 60, "all 1000 effects")
    assert published() - before == 1000
    assert duplicates() == 0
    assert world.effect_counts() == (1000, 1000)
