"""Tables of the invitations service."""

from __future__ import annotations

from contracts.bus.tables import inbox_table, outbox_table
from contracts.web.database import service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
