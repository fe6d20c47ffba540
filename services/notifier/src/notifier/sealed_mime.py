"""The message waiting in ``outgoing_email.mime`` holds the code or the link it carries: it is
kept sealed (DESIGN section 5), under the platform's sealing key for this purpose alone, and
bound to its source event. It is opened only to be handed to the mail relay, and forgotten
once the email is settled."""

from __future__ import annotations

import uuid

from contracts.bus.sealing import Sealer, is_sealed_bytes
from contracts.runtime.keyfiles import bus_sealer
from contracts.runtime.settings import ServiceSettings

PURPOSE = "notifier outgoing email"


def mime_sealer(settings: ServiceSettings) -> Sealer:
    return bus_sealer(settings).for_purpose(PURPOSE)


def seal_message(sealer: Sealer, mime: bytes, source_event_id: uuid.UUID) -> bytes:
    return sealer.seal_bytes(mime, str(source_event_id))


def open_message(sealer: Sealer, stored: bytes, source_event_id: uuid.UUID) -> bytes:
    """The message as it will be sent; one queued before sealing existed is in clear."""
    if not is_sealed_bytes(stored):
        return stored
    return sealer.open_bytes(stored, str(source_event_id))
