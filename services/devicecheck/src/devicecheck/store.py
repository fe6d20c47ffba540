"""Tables of the devicecheck service."""

from __future__ import annotations

from contracts.bus.tables import outbox_table
from contracts.web.database import service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)
