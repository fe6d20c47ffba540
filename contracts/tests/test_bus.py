"""The bus client's promises, checked on the filesystem transport and on RabbitMQ alike:
every event staged in an outbox reaches the handler and has its effect exactly once, even
when processes die; bad messages end in the dead queue without holding up the rest."""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from contracts.testing.bus import (
    EVENT_TYPE,
    POISON,
    BusWorld,
    WorldSpec,
    running,
    spawn,
    wait_until,
)


@pytest.fixture
def make_world(bus_url: str, tmp_path: Path) -> Iterator[object]:
    worlds: list[BusWorld] = []

    def make(database_url: str | None = None, **options: object) -> BusWorld:
        spec = WorldSpec(
            bus_url=bus_url,
            database_url=database_url or f"sqlite:///{tmp_path}/world.db",
            tag=uuid.uuid4().hex[:10],
            **options,  # type: ignore[arg-type]
        )
        world = BusWorld.create(spec, tmp_path)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.tear_down()


def consumed(world: BusWorld, outcome: str) -> float:
    labels = {"service": world.spec.service, "type": EVENT_TYPE, "outcome": outcome}
    return REGISTRY.get_sample_value("nexam_bus_consumed_total", labels) or 0.0


def test_every_staged_event_has_its_effect_once(make_world) -> None:
    world = make_world()
    staged = world.stage(300)
    with running(world.relay().run), running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == len(staged), 60, "300 effects")
        wait_until(lambda: world.unsent() == 0, 10, "every row marked sent")
    assert world.effect_counts() == (300, 300)
    assert world.take_dead() == []


def test_a_duplicate_delivery_is_absorbed_by_the_inbox(make_world) -> None:
    world = make_world()
    world.stage(50)
    t = world.outbox_table
    with world.engine.connect() as db:
        staged = db.execute(select(t.c.position, t.c.body)).all()
    with running(world.consumer().run_until):
        with running(world.relay().run):
            wait_until(lambda: world.effect_counts()[1] == 50, 30, "first deliveries")
            wait_until(lambda: world.unsent() == 0, 10, "rows marked sent")
        with world.engine.begin() as db:  # as if every confirm had been lost: rows as staged
            for position, body in staged:
                db.execute(
                    update(t).where(t.c.position == position).values(sent_at=None, body=body)
                )
        with running(world.relay().run):
            wait_until(lambda: consumed(world, "duplicate") >= 50, 30, "50 duplicates")
    assert world.effect_counts() == (50, 50)


def test_bad_messages_are_dead_lettered_without_blocking_the_rest(make_world) -> None:
    world = make_world(max_attempts=3)
    world.publish_raw(b"{not json")
    world.publish_raw(json.dumps({"id": str(uuid.uuid4()), "type": EVENT_TYPE}).encode())
    world.stage(1, first_name=POISON)
    good = world.stage(20)
    dead: list[tuple[dict[str, object], bytes]] = []
    with running(world.relay().run), running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == len(good), 30, "the good events")
        wait_until(lambda: bool(dead.extend(world.take_dead())) or len(dead) >= 3, 30, "3 dead")
    reasons = sorted(str(headers["x-nexam-reason"]) for headers, _body in dead)
    assert len(dead) == 3
    assert any(r.startswith("not a JSON message") for r in reasons)
    assert any(r.startswith("contract violation") for r in reasons)
    assert any(r.startswith("failed 3 times") and "always fails" in r for r in reasons)
    assert world.effect_counts() == (20, 20)


def test_a_consumer_killed_mid_stream_loses_and_doubles_nothing(make_world, tmp_path) -> None:
    world = make_world(handler_delay=0.003)
    world.stage(1000)
    with running(world.relay().run):
        wait_until(lambda: world.unsent() == 0, 60, "everything published")
    first = spawn("consumer", world.spec, tmp_path)
    try:
        wait_until(lambda: world.effect_counts()[0] >= 200, 60, "the first consumer to get going")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert world.effect_counts()[1] < 1000, "killed too late to prove anything"
    finally:
        first.kill()
    second = spawn("consumer", world.spec, tmp_path)
    try:
        wait_until(lambda: world.effect_counts()[1] == 1000, 90, "all 1000 effects")
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert world.effect_counts() == (1000, 1000)


def test_a_relay_killed_before_marking_sent_causes_only_absorbed_duplicates(
    make_world, tmp_path
) -> None:
    world = make_world()
    world.stage(100)
    crashing = spawn("relay", world.spec, tmp_path, "--crash-before-mark")
    assert crashing.wait(timeout=60) == -signal.SIGKILL
    assert world.unsent() == 100, "the crashed relay must not have marked anything"
    with running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == 100, 30, "effects of the first publish")
        with running(world.relay().run):
            wait_until(lambda: world.unsent() == 0, 30, "the second relay to finish")
            wait_until(lambda: consumed(world, "duplicate") >= 100, 30, "100 duplicates")
    assert world.effect_counts() == (100, 100)


def test_a_consumer_that_stops_leaves_nothing_unacknowledged_behind_it(make_world) -> None:
    """Batches are acked at once (one multiple ack on RabbitMQ), bad messages one by one: a
    consumer that comes after finds nothing to deliver again."""
    world = make_world(max_attempts=2)
    world.stage(120)
    world.publish_raw(b"{not json")
    world.stage(1, first_name=POISON)
    world.stage(130)
    with running(world.relay().run):
        wait_until(lambda: world.unsent() == 0, 30, "everything published")
    with running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == 250, 60, "250 effects")
        wait_until(lambda: len(world.take_dead()) == 2, 30, "the two bad messages dead")
    duplicates_before = consumed(world, "duplicate")
    (marker,) = world.stage(1)
    with running(world.relay().run), running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == 251, 30, f"the marker {marker}")
    assert consumed(world, "duplicate") == duplicates_before
    assert world.effect_counts() == (251, 251)
