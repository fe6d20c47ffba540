"""Which messages of a batch count as published: only those the broker acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contracts.bus.confirms import BatchConfirmer, Outgoing, PartialPublish


class FakeChannel:
    """Answers each batch as the scripted broker says: a list of (ack?, tag, multiple)."""

    def __init__(
        self, script: list[list[tuple[bool, int, bool]]], fail_drain: bool = False
    ) -> None:
        self.events: dict[str, set[Callable[[int, bool], None]]] = {
            "basic_ack": set(),
            "basic_nack": set(),
        }
        self.script = script
        self.published: list[str] = []
        self.fail_drain = fail_drain
        self.connection = self

    def confirm_select(self) -> None:
        pass

    def _basic_publish(self, message: Any, exchange: str, routing_key: str) -> None:
        self.published.append(routing_key)

    def drain_events(self, timeout: float) -> None:
        if self.fail_drain:
            self.fail_drain = False
            for ack, tag, multiple in self.script.pop(0):
                for callback in self.events["basic_ack" if ack else "basic_nack"]:
                    callback(tag, multiple)
            raise ConnectionResetError("broker went away")
        for ack, tag, multiple in self.script.pop(0):
            for callback in self.events["basic_ack" if ack else "basic_nack"]:
                callback(tag, multiple)


def batch(n: int) -> list[Outgoing]:
    return [Outgoing("{}", f"k{i}", f"id{i}", None) for i in range(n)]


def test_a_multiple_ack_confirms_every_earlier_message_of_the_batch() -> None:
    channel = FakeChannel([[(True, 2, True), (False, 3, False), (True, 4, False)]])
    assert BatchConfirmer(channel, "x").publish(batch(4)) == [True, True, False, True]


def test_tags_continue_across_batches_and_old_batches_are_not_counted_again() -> None:
    channel = FakeChannel([[(True, 3, True)], [(True, 4, False), (True, 6, True)]])
    confirmer = BatchConfirmer(channel, "x")
    assert confirmer.publish(batch(3)) == [True, True, True]
    assert confirmer.publish(batch(3)) == [True, True, True]
    assert confirmer._acked == set()


def test_a_lost_connection_keeps_what_was_acked_before_it() -> None:
    channel = FakeChannel([[(True, 2, True)]], fail_drain=True)
    with pytest.raises(PartialPublish) as raised:
        BatchConfirmer(channel, "x").publish(batch(4))
    assert raised.value.confirmed == [True, True, False, False]
