"""The relay's publisher against a real RabbitMQ: a batch is published without waiting per
message, and only what the broker acknowledged counts as published."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue

from contracts.bus.confirms import Outgoing, PartialPublish, PipelinedConfirms


@pytest.fixture
def exchange(amqp_url: str) -> Iterator[tuple[Connection, Exchange]]:
    with Connection(amqp_url, connect_timeout=5) as connection:
        exchange = Exchange(f"confirms-{uuid.uuid4().hex[:8]}", type="topic", durable=False)
        exchange(connection.default_channel).declare()
        yield connection, exchange
        exchange(connection.default_channel).delete()


def bound_queue(connection: Connection, exchange: Exchange, **arguments: Any) -> Queue:
    queue = Queue(
        f"{exchange.name}-q",
        exchange,
        routing_key="#",
        durable=False,
        auto_delete=False,
        queue_arguments=arguments or None,
    )
    queue(connection.default_channel).declare()
    return queue


def batch(n: int) -> list[Outgoing]:
    return [
        Outgoing(f'{{"n": {i}}}', f"invitations.Sent{i}", f"id-{i}", f"corr-{i}") for i in range(n)
    ]


def drain(connection: Connection, queue: Queue) -> list[Any]:
    messages = []
    while (message := queue(connection.default_channel).get(no_ack=True)) is not None:
        messages.append(message)
    return messages


def test_a_batch_is_confirmed_and_arrives_whole_with_its_properties(
    amqp_url: str, exchange: tuple[Connection, Exchange]
) -> None:
    connection, ex = exchange
    queue = bound_queue(connection, ex)
    publisher = PipelinedConfirms(amqp_url, ex.name)
    try:
        assert publisher.publish(batch(300)) == [True] * 300
        assert publisher.publish(batch(2)) == [True, True]  # tags go on counting
    finally:
        publisher.close()
    arrived = drain(connection, queue)
    queue(connection.default_channel).delete()
    assert [m.body for m in arrived[:3]] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert len(arrived) == 302
    first = arrived[0]
    assert first.properties["message_id"] == "id-0"
    assert first.properties["correlation_id"] == "corr-0"
    assert first.properties["delivery_mode"] == 2
    assert first.content_type == "application/json"
    assert first.delivery_info["routing_key"] == "invitations.Sent0"


def test_messages_the_broker_refuses_do_not_count_as_published(
    amqp_url: str, exchange: tuple[Connection, Exchange]
) -> None:
    connection, ex = exchange
    queue = bound_queue(connection, ex, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    publisher = PipelinedConfirms(amqp_url, ex.name)
    try:
        assert publisher.publish(batch(5)) == [True, True, False, False, False]
    finally:
        publisher.close()
    assert len(drain(connection, queue)) == 2
    queue(connection.default_channel).delete()


def test_a_channel_the_broker_closes_mid_batch_gives_a_partial_publish_not_a_hang(
    amqp_url: str,
) -> None:
    publisher = PipelinedConfirms(amqp_url, f"no-such-exchange-{uuid.uuid4().hex[:8]}", timeout=10)
    try:
        with pytest.raises(PartialPublish) as raised:
            publisher.publish(batch(3))
        assert raised.value.confirmed == [False, False, False]
        assert "NOT_FOUND" in str(raised.value.cause)
        with pytest.raises(PartialPublish):  # and it says so again rather than publish blind
            publisher.publish(batch(1))
    finally:
        publisher.close()


def test_an_unreachable_broker_is_an_error_not_a_hang() -> None:
    with pytest.raises(Exception, match="(?i)refused|connect|closed"):
        PipelinedConfirms("amqp://guest:guest@127.0.0.1:1//", "x", timeout=5)
