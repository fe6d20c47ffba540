"""Bulk rosters: accepted at once, stored row by row, and issued in the background by the
worker in chunks, with the batch's progress kept up to date."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from invitations.roster import Roster
from invitations.service import Candidate, Issuer
from invitations.store import batch_rows, batches

PROCESSING = "processing"
COMPLETED = "completed"


def accept_roster(
    session: Session, institution_id: uuid.UUID, roster: Roster, now: datetime
) -> uuid.UUID:
    batch_id = uuid.uuid4()
    session.execute(
        insert(batches).values(
            id=batch_id,
            institution_id=institution_id,
            status=PROCESSING if roster.rows else COMPLETED,
            total_rows=len(roster.rows) + len(roster.rejected),
            accepted=len(roster.rows),
            processed=0,
            issued=0,
            enrolled=0,
            skipped=0,
            rejected=roster.rejected,
            created_at=now,
            completed_at=None if roster.rows else now,
        )
    )
    if roster.rows:
        session.execute(
            insert(batch_rows),
            [{"batch_id": batch_id, "row_number": n, "payload": row} for n, row in roster.rows],
        )
    return batch_id


def process_pending_rows(session: Session, issuer: Issuer, now: datetime, limit: int = 500) -> int:
    """Issue up to ``limit`` waiting rows, oldest batch first; returns how many were done.
    Rows are claimed with SKIP LOCKED, so several workers share the work."""
    claimed = session.execute(
        select(
            batch_rows.c.batch_id,
            batch_rows.c.row_number,
            batch_rows.c.payload,
            batches.c.institution_id,
        )
        .join(batches, batches.c.id == batch_rows.c.batch_id)
        .where(batch_rows.c.outcome.is_(None))
        .order_by(batches.c.created_at, batch_rows.c.batch_id, batch_rows.c.row_number)
        .limit(limit)
        .with_for_update(skip_locked=True, of=batch_rows)
    ).all()
    by_batch: dict[uuid.UUID, list[Any]] = {}
    for row in claimed:
        by_batch.setdefault(row.batch_id, []).append(row)
    for batch_id, rows in by_batch.items():
        candidates = [Candidate.from_row(r.payload) for r in rows]
        results = issuer.issue(session, rows[0].institution_id, candidates, now, batch_id=batch_id)
        counts = {"issued": 0, "enrolled": 0, "skipped": 0}
        for result in results:
            counts[result.outcome] += 1
        session.connection().execute(
            update(batch_rows)
            .where(
                batch_rows.c.batch_id == bindparam("b_batch"),
                batch_rows.c.row_number == bindparam("b_row"),
            )
            .values(outcome=bindparam("b_outcome"), invitation_id=bindparam("b_invitation")),
            [
                {
                    "b_batch": batch_id,
                    "b_row": row.row_number,
                    "b_outcome": result.outcome,
                    "b_invitation": result.invitation["id"],
                }
                for row, result in zip(rows, results, strict=True)
            ],
        )
        session.execute(
            update(batches)
            .where(batches.c.id == batch_id)
            .values(
                processed=batches.c.processed + len(rows),
                issued=batches.c.issued + counts["issued"],
                enrolled=batches.c.enrolled + counts["enrolled"],
                skipped=batches.c.skipped + counts["skipped"],
            )
        )
        _complete_if_done(session, batch_id, now)
    return len(claimed)


def _complete_if_done(session: Session, batch_id: uuid.UUID, now: datetime) -> None:
    waiting = session.scalar(
        select(func.count())
        .select_from(batch_rows)
        .where(batch_rows.c.batch_id == batch_id, batch_rows.c.outcome.is_(None))
    )
    if not waiting:
        session.execute(
            update(batches)
            .where(batches.c.id == batch_id)
            .values(status=COMPLETED, completed_at=now)
        )


def find_batch(session: Session, institution_id: uuid.UUID, batch_id: uuid.UUID) -> Row[Any] | None:
    return session.execute(
        select(batches).where(batches.c.id == batch_id, batches.c.institution_id == institution_id)
    ).first()
