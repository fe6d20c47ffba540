"""Bulk rosters: accepted at once, stored row by row, and issued in the background by the
worker in chunks, with the batch's progress kept up to date."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from invitations import store
from invitations.domain import BatchNotFound, Candidate
from invitations.issuing import Issuing, issue_invitations
from invitations.roster import Roster

PROCESSING = "processing"
COMPLETED = "completed"


def accept_roster(
    session: Session, institution_id: uuid.UUID, roster: Roster, now: datetime
) -> uuid.UUID:
    batch_id = uuid.uuid4()
    batch = {
        "id": batch_id,
        "institution_id": institution_id,
        "status": PROCESSING if roster.rows else COMPLETED,
        "total_rows": len(roster.rows) + len(roster.rejected),
        "accepted": len(roster.rows),
        "processed": 0,
        "issued": 0,
        "enrolled": 0,
        "skipped": 0,
        "rejected": roster.rejected,
        "created_at": now,
        "completed_at": None if roster.rows else now,
    }
    rows = [{"batch_id": batch_id, "row_number": n, "payload": row} for n, row in roster.rows]
    store.add_batch(session, batch, rows)
    return batch_id


def process_pending_rows(
    session: Session, issuing: Issuing, now: datetime, limit: int = 500
) -> int:
    """Issue up to ``limit`` waiting rows, oldest batch first; returns how many were done.
    Rows are claimed with SKIP LOCKED, so several workers share the work."""
    claimed = store.claim_waiting_rows(session, limit)
    by_batch: dict[uuid.UUID, list[Any]] = {}
    for row in claimed:
        by_batch.setdefault(row.batch_id, []).append(row)
    for batch_id, rows in by_batch.items():
        candidates = [Candidate.from_row(r.payload) for r in rows]
        results = issue_invitations(
            session, issuing, rows[0].institution_id, candidates, now, batch_id=batch_id
        )
        counts = {"issued": 0, "enrolled": 0, "skipped": 0}
        for result in results:
            counts[result.outcome] += 1
        store.record_row_outcomes(
            session,
            batch_id,
            [
                (row.row_number, result.outcome, result.invitation["id"])
                for row, result in zip(rows, results, strict=True)
            ],
        )
        store.count_progress(session, batch_id, len(rows), **counts)
        if not store.rows_waiting(session, batch_id):
            store.complete_batch(session, batch_id, COMPLETED, now)
    return len(claimed)


def find_batch(session: Session, institution_id: uuid.UUID, batch_id: uuid.UUID) -> Row[Any]:
    batch = store.find_batch(session, institution_id, batch_id)
    if batch is None:
        raise BatchNotFound()
    return batch
