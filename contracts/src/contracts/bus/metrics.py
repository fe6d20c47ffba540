"""Prometheus metrics of the bus client, created once per process on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter, Gauge


@dataclass(frozen=True)
class BusMetrics:
    published: Counter
    consumed: Counter
    outbox_pending: Gauge


@cache
def bus_metrics() -> BusMetrics:
    return BusMetrics(
        published=Counter(
            "nexam_bus_published",
            "Events published from the outbox and confirmed by the broker.",
            ["producer", "type"],
        ),
        consumed=Counter(
            "nexam_bus_consumed",
            "Messages taken from a service queue, by outcome "
            "(handled, duplicate, retried, dead_lettered).",
            ["service", "type", "outcome"],
        ),
        outbox_pending=Gauge(
            "nexam_bus_outbox_pending",
            "Outbox rows not yet confirmed by the broker, as last seen by the relay.",
            ["producer"],
        ),
    )
