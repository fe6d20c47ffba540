"""Publisher confirms for a whole batch on RabbitMQ: publish every message, then wait once
for the broker's acknowledgements, instead of one round trip per message. Only messages
the broker acked count as published; a nack or a missing ack leaves them for the next try.

RabbitMQ is spoken to through pika's asynchronous connection, whose public API publishes
without waiting and reports each ack or nack to a callback; its I/O loop runs in the relay's
own thread, only while the relay waits for the broker."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import pika
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel


class Publisher(Protocol):
    def publish(self, messages: Sequence[Outgoing]) -> list[bool]: ...

    def close(self) -> None: ...


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


class Confirmations:
    """The broker's answers on one channel: delivery tags count from 1 after confirm.select,
    and an ack or nack with ``multiple`` settles every earlier tag not yet settled."""

    def __init__(self) -> None:
        self.sent = 0
        self.acked: set[int] = set()
        self.nacked: set[int] = set()
        self._settled_up_to = 0

    def settle(self, tag: int, multiple: bool, *, ack: bool) -> None:
        into = self.acked if ack else self.nacked
        if multiple:
            into.update(
                t
                for t in range(self._settled_up_to + 1, tag + 1)
                if t not in self.acked and t not in self.nacked
            )
            self._settled_up_to = max(self._settled_up_to, tag)
        else:
            into.add(tag)

    def open(self, tags: range) -> bool:
        """Whether some of ``tags`` still wait for the broker's answer."""
        return any(t not in self.acked and t not in self.nacked for t in tags)

    def take(self, tags: range) -> list[bool]:
        """True for each of ``tags`` the broker acked; forgets them."""
        confirmed = [t in self.acked for t in tags]
        self.acked.difference_update(tags)
        self.nacked.difference_update(tags)
        return confirmed


def pika_parameters(url: str) -> pika.URLParameters:
    """kombu's ``amqp://`` and ``pyamqp://`` addresses as pika reads them."""
    parts = urlsplit(url)
    scheme = "amqps" if parts.scheme == "amqps" else "amqp"
    parameters = pika.URLParameters(urlunsplit((scheme, parts.netloc, "", parts.query, "")))
    parameters.virtual_host = unquote(parts.path[1:]) or "/"  # kombu's reading: "//" is "/"
    parameters.heartbeat = 0  # as the kombu connections: the relay may idle for hours
    parameters.socket_timeout = 5
    return parameters


class PipelinedConfirms:
    """Publishes batches on one pika connection and channel with publisher confirms."""

    def __init__(self, url: str, exchange: str, *, timeout: float = 30.0) -> None:
        self.exchange = exchange
        self.timeout = timeout
        self.confirmations = Confirmations()
        self._channel: Channel | None = None
        self._failure: BaseException | None = None
        self._connection = SelectConnection(
            pika_parameters(url),
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_failed,
            on_close_callback=self._on_connection_closed,
        )
        self._wait_for(lambda: self._channel is not None, "the broker did not open a channel")

    # pika's callbacks, run inside the I/O loop; each wakes the waiting relay
    def _on_connection_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: self._ready(channel)
        )

    def _ready(self, channel: Channel) -> None:
        self._channel = channel
        self._connection.ioloop.stop()

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        self.confirmations.settle(
            method.delivery_tag, method.multiple, ack=isinstance(method, pika.spec.Basic.Ack)
        )
        self._connection.ioloop.stop()

    def _on_connection_failed(self, _connection: Any, error: BaseException | str) -> None:
        self._fail(error if isinstance(error, BaseException) else ConnectionError(error))

    def _on_connection_closed(self, _connection: Any, reason: BaseException) -> None:
        self._fail(reason)

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        self._fail(reason)
        if self._connection.is_open:
            self._connection.close()

    def _fail(self, reason: BaseException) -> None:
        self._failure = self._failure or ConnectionError(f"the broker closed: {reason}")
        self._connection.ioloop.stop()

    def _wait_for(self, done: Any, timeout_message: str) -> None:
        """Run the I/O loop until ``done()``; raise if the connection fails or time runs out."""
        ioloop = self._connection.ioloop
        deadline = time.monotonic() + self.timeout
        timer = ioloop.call_later(self.timeout, ioloop.stop)
        try:
            while not done():
                if self._failure is not None:
                    raise self._failure
                if time.monotonic() >= deadline:
                    raise TimeoutError(timeout_message)
                ioloop.start()  # until a callback or the timer stops it
        finally:
            ioloop.remove_timeout(timer)

    def publish(self, messages: Sequence[Outgoing]) -> list[bool]:
        """Publish ``messages`` and wait for the broker; True for each one it acked."""
        if self._failure is not None or self._channel is None:
            raise PartialPublish([], self._failure or ConnectionError("no channel"))
        first = self.confirmations.sent + 1
        for index, outgoing in enumerate(messages):
            properties = pika.BasicProperties(
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=outgoing.message_id,
                correlation_id=outgoing.correlation_id,
            )
            try:
                self._channel.basic_publish(
                    self.exchange, outgoing.routing_key, outgoing.body.encode(), properties
                )
            except Exception as exc:  # nothing of this batch can be trusted past this point
                raise PartialPublish([False] * index, exc) from exc
            self.confirmations.sent += 1
        tags = range(first, self.confirmations.sent + 1)
        try:
            self._wait_for(
                lambda: not self.confirmations.open(tags),
                f"the broker confirmed only part of {len(tags)} messages",
            )
        except Exception as exc:  # the connection went away: keep what was acked
            raise PartialPublish(self.confirmations.take(tags), exc) from exc
        return self.confirmations.take(tags)

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()
            try:
                self._wait_for(lambda: self._connection.is_closed, "closing took too long")
            except Exception:  # closing is best effort; the socket goes with the process
                pass


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

    def close(self) -> None:
        pass
