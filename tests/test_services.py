"""Every service's worker handles exactly the events it is subscribed to (DESIGN section 2),
and publishes only the events its contracts say it produces."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pytest

from contracts.bus import SUBSCRIPTIONS, HandleMany
from contracts.events.schemas import CONTRACTS

CONSUMERS = sorted(SUBSCRIPTIONS)
SERVICES = ["identity", "invitations", "notifier", "exams", "devicecheck"]


def handlers_of(service: str) -> Mapping[str, Any]:
    module = importlib.import_module(f"{service}.handlers")
    if service == "invitations":
        from contracts.bus.outbox import Outbox
        from invitations.store import metadata

        return dict(module.handlers(Outbox(metadata, service)))
    if service == "notifier":
        from notifier.config import Settings as NotifierSettings

        return dict(module.handlers(NotifierSettings.from_env({})))
    if service == "identity":
        from contracts.bus.outbox import Outbox
        from identity.store import metadata as identity_tables

        outbox = Outbox(identity_tables, service)
        return dict(module.handlers(b"k" * 32, public_url="http://nexam.test", outbox=outbox))
    return dict(module.handlers())


@pytest.mark.parametrize("service", CONSUMERS)
def test_a_consuming_service_has_a_handler_for_each_subscription(service: str) -> None:
    handlers = handlers_of(service)
    assert set(handlers) == {event_type for event_type, _version in SUBSCRIPTIONS[service]}
    assert all(callable(h) or isinstance(h, HandleMany) for h in handlers.values())


def test_the_device_check_consumes_nothing_and_has_no_inbox() -> None:
    store = importlib.import_module("devicecheck.store")
    assert "devicecheck" not in SUBSCRIPTIONS
    assert "bus_inbox" not in store.metadata.tables
    assert "bus_outbox" in store.metadata.tables


@pytest.mark.parametrize("service", SERVICES)
def test_each_producer_of_a_contract_has_an_outbox(service: str) -> None:
    produces = {c.type for c in CONTRACTS if c.producer == service}
    store = importlib.import_module(f"{service}.store")
    assert produces, f"{service} produces no event"
    assert "bus_outbox" in store.metadata.tables
