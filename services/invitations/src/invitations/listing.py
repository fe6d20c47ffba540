"""What a coordinator reads: one invitation, a page of them, all of them for an export; each
with how its candidate signs in once the candidate has an account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from invitations import store
from invitations.domain import InvitationNotFound, normalise_email, shows_account

#: rows read at a time for an export
EXPORT_CHUNK = 1000


def described(
    session: Session, rows: Sequence[Row[Any] | Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The invitations as a coordinator reads them: each with ``sign_in_methods``, how its
    candidate signs in, empty until the candidate has an account."""
    shown = [dict(row._mapping) if isinstance(row, Row) else dict(row) for row in rows]
    emails = {row["email"] for row in shown if shows_account(row["status"])}
    methods = store.sign_in_methods_of(session, emails) if emails else {}
    for row in shown:
        row["sign_in_methods"] = (
            methods.get(row["email"], []) if shows_account(row["status"]) else []
        )
    return shown


def describe(session: Session, row: Row[Any] | Mapping[str, Any]) -> dict[str, Any]:
    (shown,) = described(session, [row])
    return shown


def find_invitation(
    session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID
) -> dict[str, Any]:
    row = store.find_invitation(session, institution_id, invitation_id)
    if row is None:
        raise InvitationNotFound()
    return describe(session, row)


def list_invitations(
    session: Session,
    institution_id: uuid.UUID,
    *,
    status: str | None = None,
    evaluation: str | None = None,
    email: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
    rows = store.page_of_invitations(
        session,
        institution_id,
        status=status,
        evaluation=evaluation,
        email=normalise_email(email) if email else None,
        after=after,
        limit=limit,
    )
    return described(session, rows)


def every_invitation(
    session: Session,
    institution_id: uuid.UUID,
    *,
    status: str | None = None,
    evaluation: str | None = None,
    email: str | None = None,
) -> Iterator[dict[str, Any]]:
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
        after = (rows[-1]["created_at"], rows[-1]["id"])
