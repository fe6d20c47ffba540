"""The embedded filesystem transport under processes that start at the same moment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from kombu import Exchange, Queue

from contracts.bus.connection import BusAddress


def _declare(folder: str, index: int, start: multiprocessing.synchronize.Barrier) -> None:
    bus = BusAddress(f"filesystem://{folder}", Path(folder))
    exchange = Exchange("race.events", type="topic", durable=True)
    start.wait()
    with bus.connect() as connection:
        channel = connection.default_channel  # opening a channel takes a claimant lock
        exchange(channel).declare()
        Queue(f"queue-{index}", exchange, routing_key=f"key.{index}")(channel).declare()
        for _ in range(50):  # readers racing the writers must never see a broken table
            channel.get_table("race.events")


@pytest.mark.parametrize("round_", range(5))
def test_processes_declaring_at_once_lose_no_binding_and_no_channel(
    tmp_path: Path, round_: int
) -> None:
    count = 16
    context = multiprocessing.get_context("fork")
    start = context.Barrier(count)
    workers = [
        context.Process(target=_declare, args=(str(tmp_path / "bus"), i, start))
        for i in range(count)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * count
    bus = BusAddress(f"filesystem://{tmp_path / 'bus'}", tmp_path)
    with bus.connect() as connection:
        table = connection.default_channel.get_table("race.events")
    assert sorted(b.queue for b in table) == sorted(f"queue-{i}" for i in range(count))
