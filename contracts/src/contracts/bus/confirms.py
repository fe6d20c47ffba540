"""Publisher confirms for a whole batch on RabbitMQ: publish every message, then wait once
for the broker's acknowledgements, instead of one round trip per message. Only messages
the broker acked count as published; a nack or a missing ack leaves them for the next try."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from amqp import Message


class Publisher(Protocol):
    def publish(self, messages: Sequence[Outgoing]) -> list[bool]: ...


class PartialPublish(Exception):
    """Publishing stopped part way: ``confirmed`` says which messages the broker has."""

    def __init__(self, confirmed: list[bool], cause: BaseException) -> None:
        super().__init__(str(cause))
        self.confirmed = confirmed
        self.cause = cause


@dataclass(frozen=True)
class Outgoing:
    body: str
    routing_key: str
    message_id: str
    correlation_id: str | None


class BatchConfirmer:
    def __init__(self, channel: Any, exchange: str, *, timeout: float = 30.0) -> None:
        self.channel = channel
        self.exchange = exchange
        self.timeout = timeout
        self._sequence = 0  # delivery tags count from 1 after confirm.select, per channel
        self._acked: set[int] = set()
        self._nacked: set[int] = set()
        self._settled_up_to = 0
        self._batch_first = 1
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._mark(self._acked, delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._mark(self._nacked, delivery_tag, multiple)

    def _mark(self, into: set[int], tag: int, multiple: bool) -> None:
        if multiple:
            into.update(
                t
                for t in range(self._settled_up_to + 1, tag + 1)
                if t not in self._acked | self._nacked
            )
            self._settled_up_to = max(self._settled_up_to, tag)
        else:
            into.add(tag)

    def publish(self, messages: Sequence[Outgoing]) -> list[bool]:
        """Publish ``messages`` and wait for the broker; True for each one it acked."""
        first = self._batch_first = self._sequence + 1
        for index, outgoing in enumerate(messages):
            message = Message(
                outgoing.body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=outgoing.message_id,
                correlation_id=outgoing.correlation_id,
            )
            try:
                self.channel._basic_publish(
                    message, exchange=self.exchange, routing_key=outgoing.routing_key
                )
            except Exception as exc:  # nothing of this batch can be trusted past this point
                raise PartialPublish([False] * index, exc) from exc
            self._sequence += 1
        tags = range(first, self._sequence + 1)
        deadline = time.monotonic() + self.timeout
        try:
            while any(t not in self._acked and t not in self._nacked for t in tags):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the broker confirmed only part of {len(tags)} messages")
                try:
                    self.channel.connection.drain_events(timeout=min(remaining, 1.0))
                except TimeoutError:
                    continue
        except Exception as exc:  # the connection went away: keep what was acked
            raise PartialPublish([t in self._acked for t in tags], exc) from exc
        confirmed = [t in self._acked for t in tags]
        self._acked.difference_update(tags)
        self._nacked.difference_update(tags)
        return confirmed


class DirectPublisher:
    """For the filesystem transport, where a publish returns once the message is on disk."""

    def __init__(self, producer: Any, exchange: Any) -> None:
        self.producer = producer
        self.exchange = exchange

    def publish(self, messages: Sequence[Outgoing]) -> list[bool]:
        for index, outgoing in enumerate(messages):
            try:
                self.producer.publish(
                    outgoing.body,
                    exchange=self.exchange,
                    routing_key=outgoing.routing_key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=outgoing.message_id,
                    correlation_id=outgoing.correlation_id,
                    retry=False,
                )
            except Exception as exc:
                raise PartialPublish([True] * index, exc) from exc
        return [True] * len(messages)
