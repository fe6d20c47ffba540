"""Tables of the devicecheck service."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    CursorResult,
    Executable,
    Integer,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.orm import Session

from contracts.bus.tables import outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)

#: one run of the device check: what the service saw of it while it ran, then the
#: browser's report and the verdict, given once
device_checks = Table(
    "device_checks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, nullable=False, index=True),
    Column("started_at", UtcDateTime(), nullable=False),
    # the thresholds announced when the run started, so a change of settings meanwhile
    # does not move the goalposts under a candidate
    Column("thresholds", JSON, nullable=False),
    Column("downloaded_bytes", BigInteger, nullable=False),
    Column("uploaded_bytes", BigInteger, nullable=False),
    Column("upload_bps", BigInteger, nullable=True),  # the fastest upload the service timed
    Column("pings", Integer, nullable=False),
    Column("document_served_at", UtcDateTime(), nullable=True),
    Column("autosave_revision", Integer, nullable=False),
    Column("autosave_content", Text, nullable=True),
    Column("autosaved_at", UtcDateTime(), nullable=True),
    Column("judged_at", UtcDateTime(), nullable=True),
    Column("passed", Boolean, nullable=True),
    Column("report", JSON, nullable=True),  # the browser's results, as sent
    Column("failures", JSON, nullable=True),  # [{check, reason, values}]
    Column("valid_until", UtcDateTime(), nullable=True),
)

#: what each account has asked of the device check in the current window (rate limit)
request_budgets = Table(
    "request_budgets",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("window_started_at", UtcDateTime(), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)


def changed_rows(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE touched."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
