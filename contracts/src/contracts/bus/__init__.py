"""The bus client every service uses: topology, outbox, relay, consumer with inbox."""

from contracts.bus.connection import BusAddress
from contracts.bus.consumer import AnyHandler, EventConsumer, HandleMany, Handler, note_receipt
from contracts.bus.outbox import Outbox
from contracts.bus.relay import Relay
from contracts.bus.tables import inbox_table, outbox_table
from contracts.bus.topology import Topology
from contracts.events.subscriptions import SUBSCRIPTIONS

__all__ = [
    "SUBSCRIPTIONS",
    "BusAddress",
    "AnyHandler",
    "EventConsumer",
    "HandleMany",
    "Handler",
    "Outbox",
    "Relay",
    "Topology",
    "inbox_table",
    "note_receipt",
    "outbox_table",
]
