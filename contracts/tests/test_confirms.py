"""Which messages of a batch count as published: only those the broker acknowledged."""

from __future__ import annotations

from contracts.bus.confirms import Confirmations, pika_parameters


def answered(script: list[tuple[bool, int, bool]], sent: int) -> Confirmations:
    confirmations = Confirmations()
    confirmations.sent = sent
    for ack, tag, multiple in script:
        confirmations.settle(tag, multiple, ack=ack)
    return confirmations


def test_a_multiple_ack_confirms_every_earlier_message_of_the_batch() -> None:
    confirmations = answered([(False, 3, False), (True, 2, True), (True, 4, False)], sent=4)
    assert not confirmations.open(range(1, 5))
    assert confirmations.take(range(1, 5)) == [True, True, False, True]


def test_a_multiple_ack_does_not_turn_an_earlier_nack_into_an_ack() -> None:
    confirmations = answered([(False, 2, False), (True, 3, True)], sent=3)
    assert confirmations.take(range(1, 4)) == [True, False, True]


def test_tags_continue_across_batches_and_old_batches_are_not_counted_again() -> None:
    confirmations = answered([(True, 3, True)], sent=3)
    assert confirmations.take(range(1, 4)) == [True, True, True]
    confirmations.sent = 6
    assert confirmations.open(range(4, 7))
    confirmations.settle(4, False, ack=True)
    confirmations.settle(6, True, ack=True)
    assert confirmations.take(range(4, 7)) == [True, True, True]
    assert confirmations.acked == set() and confirmations.nacked == set()


def test_a_message_without_an_answer_keeps_its_batch_open() -> None:
    confirmations = answered([(True, 1, False), (True, 3, False)], sent=3)
    assert confirmations.open(range(1, 4))
    assert confirmations.take(range(1, 4)) == [True, False, True]


def test_kombu_addresses_become_pika_parameters() -> None:
    parameters = pika_parameters("amqp://nexam:s3cret@broker.example:5673//")
    assert (parameters.host, parameters.port, parameters.virtual_host) == (
        "broker.example",
        5673,
        "/",
    )
    assert parameters.credentials.username == "nexam"
    assert pika_parameters("pyamqp://guest:guest@127.0.0.1:5672/exams").virtual_host == "exams"
