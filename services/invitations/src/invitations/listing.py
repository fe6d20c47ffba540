"""What a coordinator reads: one invitation, a page of them, all of them for an export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from invitations import store
from invitations.domain import InvitationNotFound, normalise_email

#: rows read at a time for an export
EXPORT_CHUNK = 1000


def find_invitation(
    session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID
) -> Row[Any]:
    row = store.find_invitation(session, institution_id, invitation_id)
    if row is None:
        raise InvitationNotFound()
    return row


def list_invitations(
    session: Session,
    institution_id: uuid.UUID,
    *,
    status: str | None = None,
    evaluation: str | None = None,
    email: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Row[Any]]:
    """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
    return store.page_of_invitations(
        session,
        institution_id,
        status=status,
        evaluation=evaluation,
        email=normalise_email(email) if email else None,
        after=after,
        limit=limit,
    )


def every_invitation(
    session: Session,
    institution_id: uuid.UUID,
    *,
    status: str | None = None,
    evaluation: str | None = None,
    email: str | None = None,
) -> Iterator[Row[Any]]:
    """All the matching invitations, newest first, read a chunk at a time."""
    after = None
    while True:
        rows = list_invitations(
            session,
            institution_id,
            status=status,
            evaluation=evaluation,
            email=email,
            after=after,
            limit=EXPORT_CHUNK,
        )
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        after = (rows[-1].created_at, rows[-1].id)
