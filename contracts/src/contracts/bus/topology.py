"""The shape of the bus (DESIGN section 3): one topic exchange for events, a dead-letter
exchange, and per consuming service one durable queue plus its dead queue; and, for events
that every process of a service must see, one queue per process that lives as long as it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kombu import Connection, Exchange, Queue, binding

from contracts.events.schemas import contract_for
from contracts.events.subscriptions import EVERY_PROCESS, SUBSCRIPTIONS


@dataclass(frozen=True)
class Topology:
    events_exchange_name: str = "nexam.events"
    dead_exchange_name: str = "nexam.dead"
    subscriptions: Mapping[str, tuple[tuple[str, int], ...]] = field(
        default_factory=lambda: SUBSCRIPTIONS
    )
    #: deliveries after which RabbitMQ dead-letters a message that keeps killing its consumer
    delivery_limit: int = 10
    #: prefix of queue names, so that several platforms can share one broker
    queue_prefix: str = ""
    every_process: Mapping[str, tuple[tuple[str, int], ...]] = field(
        default_factory=lambda: EVERY_PROCESS
    )

    @classmethod
    def for_namespace(cls, namespace: str) -> Topology:
        """The default topology, or one whose exchanges and queues all start with
        ``namespace.`` (``BUS_NAMESPACE``): a staging and a production platform, or parallel
        test runs, can then share one RabbitMQ without seeing each other's events."""
        if not namespace:
            return cls()
        return cls(
            events_exchange_name=f"{namespace}.nexam.events",
            dead_exchange_name=f"{namespace}.nexam.dead",
            queue_prefix=f"{namespace}.",
        )

    def queue_name(self, service: str) -> str:
        return f"{self.queue_prefix}{service}"

    @property
    def events_exchange(self) -> Exchange:
        return Exchange(self.events_exchange_name, type="topic", durable=True)

    @property
    def dead_exchange(self) -> Exchange:
        return Exchange(self.dead_exchange_name, type="direct", durable=True)

    def routing_keys(self, service: str) -> tuple[str, ...]:
        keys = {contract_for(t, v).routing_key for t, v in self.subscriptions.get(service, ())}
        return tuple(sorted(keys))

    def queue(self, service: str) -> Queue:
        return Queue(
            self.queue_name(service),
            bindings=[
                binding(self.events_exchange, routing_key=k) for k in self.routing_keys(service)
            ],
            durable=True,
            auto_delete=False,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": self.dead_exchange_name,
                "x-dead-letter-routing-key": service,
            },
        )

    def process_queue(self, service: str, process: str) -> Queue:
        """The queue of one process of ``service`` (``process`` names it uniquely) for the
        events every process must see: exclusive to its connection and deleted with it on
        RabbitMQ, so nothing piles up for a process that is gone (the filesystem transport
        knows neither: see ``contracts.bus.process_queue``)."""
        keys = sorted(
            {contract_for(t, v).routing_key for t, v in self.every_process.get(service, ())}
        )
        return Queue(
            f"{self.queue_prefix}{service}.{process}",
            bindings=[binding(self.events_exchange, routing_key=k) for k in keys],
            durable=False,
            exclusive=True,
            auto_delete=True,
        )

    def dead_queue(self, service: str) -> Queue:
        return Queue(
            f"{self.queue_name(service)}.dead",
            exchange=self.dead_exchange,
            routing_key=service,
            durable=True,
            auto_delete=False,
            queue_arguments={"x-queue-type": "quorum"},
        )

    def queues(self, services: Iterable[str] | None = None) -> list[Queue]:
        names = self.subscriptions.keys() if services is None else services
        return [q for name in names for q in (self.queue(name), self.dead_queue(name))]

    def declare(self, connection: Connection) -> None:
        """Declare both exchanges and every service's queues, so that no event published
        before its consumer first started is dropped as unroutable."""
        channel = connection.default_channel
        self.events_exchange(channel).declare()
        self.dead_exchange(channel).declare()
        for queue in self.queues():
            queue(channel).declare()
