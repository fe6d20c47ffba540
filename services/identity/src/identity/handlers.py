"""Events the identity service consumes."""

from __future__ import annotations

from contracts.bus import SUBSCRIPTIONS, Handler, note_receipt
from identity.config import SERVICE


def handlers() -> dict[str, Handler]:
    # the use cases behind these events land with the identity issue
    return {event_type: note_receipt for event_type, _version in SUBSCRIPTIONS[SERVICE]}
