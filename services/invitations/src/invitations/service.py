"""Use cases of the invitations service. Each takes its dependencies as arguments (the
session, the outbox, the code key, the time) and leaves committing to its caller."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.envelope import Event
from invitations.domain import (
    STANDING,
    EmailStatus,
    InvitationStateError,
    Status,
    check_resend,
    check_revoke,
    code_digest,
    expiry_from,
    new_code,
    normalise_email,
)
from invitations.store import activated_addresses, invitations


@dataclass(frozen=True)
class Candidate:
    email: str
    first_name: str
    last_name: str
    language: str
    evaluation_ref: str
    evaluation_name: str

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Candidate:
        return cls(
            email=normalise_email(row["email"]),
            first_name=row["first_name"],
            last_name=row["last_name"],
            language=row.get("language") or "en",
            evaluation_ref=row["evaluation_ref"],
            evaluation_name=row["evaluation_name"],
        )


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Issued:
    invitation: Mapping[str, Any]
    outcome: str  # issued, enrolled, or skipped (a standing invitation already exists)


@dataclass(frozen=True)
class Issuer:
    outbox: Outbox
    code_key: bytes

    def issue(
        self,
        session: Session,
        institution_id: uuid.UUID,
        candidates: Sequence[Candidate],
        now: datetime,
        batch_id: uuid.UUID | None = None,
    ) -> list[Issued]:
        """Invite each candidate unless a standing invitation for the same person and
        evaluation exists; an address with an active account gets a sign-in notice instead
        of a code. Two queries for the whole chunk, then one insert per new invitation."""
        emails = {c.email for c in candidates}
        standing: dict[tuple[str, str], Mapping[str, Any]] = {
            (r.email, r.evaluation_ref): dict(r._mapping)
            for r in session.execute(
                select(invitations).where(
                    invitations.c.institution_id == institution_id,
                    invitations.c.email.in_(emails),
                    invitations.c.status.in_([s.value for s in STANDING]),
                )
            )
        }
        active = set(
            session.scalars(
                select(activated_addresses.c.email).where(activated_addresses.c.email.in_(emails))
            )
        )
        results: list[Issued] = []
        new_rows: list[dict[str, Any]] = []
        announcements: list[tuple[str, dict[str, Any], str]] = []
        for candidate in candidates:
            key = (candidate.email, candidate.evaluation_ref)
            existing = standing.get(key)
            if existing is not None:
                results.append(Issued(existing, "skipped"))
                continue
            enrolled = candidate.email in active
            row, announcement = self._new(institution_id, candidate, now, batch_id, enrolled)
            new_rows.append(row)
            announcements.append(announcement)
            standing[key] = row
            results.append(Issued(row, "enrolled" if enrolled else "issued"))
        # one multi-row INSERT for the events and one for the invitations, per chunk
        for row, event in zip(new_rows, self.outbox.add_many(session, announcements), strict=True):
            row["last_event_id"] = event.id
        if new_rows:
            session.execute(insert(invitations), new_rows)
        return results

    def _new(
        self,
        institution_id: uuid.UUID,
        candidate: Candidate,
        now: datetime,
        batch_id: uuid.UUID | None,
        enrolled: bool,
    ) -> tuple[dict[str, Any], tuple[str, dict[str, Any], str]]:
        """A new invitation's row (its event id still to be set) and its announcement."""
        invitation_id = uuid.uuid4()
        code = None if enrolled else new_code()
        expires_at = None if enrolled else expiry_from(now)
        row = {
            "id": invitation_id,
            "institution_id": institution_id,
            "email": candidate.email,
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "language": candidate.language,
            "evaluation_ref": candidate.evaluation_ref,
            "evaluation_name": candidate.evaluation_name,
            "status": (Status.ENROLLED if enrolled else Status.PENDING).value,
            "code_digest": code_digest(self.code_key, code) if code else None,
            "expires_at": expires_at,
            "email_status": EmailStatus.QUEUED.value,
            "email_error": None,
            "last_event_id": None,
            "batch_id": batch_id,
            "created_at": now,
            "updated_at": now,
        }
        return row, ("InvitationIssued", _issued_data(row, code, resent=False), "")

    def _announce(
        self,
        session: Session,
        invitation_id: uuid.UUID,
        institution_id: uuid.UUID,
        candidate: Candidate,
        code: str | None,
        expires_at: datetime | None,
        resent: bool = False,
    ) -> Event:
        row = {
            "id": invitation_id,
            "institution_id": institution_id,
            "expires_at": expires_at,
            **candidate.__dict__,
        }
        return self.outbox.add(session, "InvitationIssued", _issued_data(row, code, resent=resent))

    def resend(
        self, session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID, now: datetime
    ) -> Row[Any]:
        """A new code valid 30 days from now; the old one stops working at once."""
        current = _owned_for_update(session, institution_id, invitation_id)
        status = Status(current.status)
        check_resend(status)
        if status is Status.EXPIRED and _replaced(session, current):
            # bringing it back would make two standing invitations for one person
            raise InvitationStateError(
                "invitation_replaced",
                "A newer invitation for this person and evaluation exists; resend that one.",
            )
        candidate = _candidate_of(current)
        # an address that has activated an account since gets a sign-in notice, not a code
        enrolled = status is Status.ENROLLED or _has_account(session, current.email)
        code = None if enrolled else new_code()
        expires_at = None if enrolled else expiry_from(now)
        event = self._announce(
            session, current.id, institution_id, candidate, code, expires_at, resent=True
        )
        return _update(
            session,
            current.id,
            status=(Status.ENROLLED if enrolled else Status.PENDING).value,
            code_digest=code_digest(self.code_key, code) if code else None,
            expires_at=expires_at,
            email_status=EmailStatus.QUEUED.value,
            email_error=None,
            last_event_id=event.id,
            updated_at=now,
        )

    def revoke(
        self, session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID, now: datetime
    ) -> Row[Any]:
        current = _owned_for_update(session, institution_id, invitation_id)
        check_revoke(Status(current.status))
        self.outbox.add(
            session,
            "InvitationRevoked",
            {
                "invitation_id": current.id,
                "institution_id": institution_id,
                "email": current.email,
                "revoked_at": now,
            },
        )
        return _update(
            session, current.id, status=Status.REVOKED.value, code_digest=None, updated_at=now
        )

    def expire_due(self, session: Session, now: datetime, limit: int = 500) -> int:
        """Mark expired the pending invitations whose time has come, announcing each once.
        Rows are claimed with SKIP LOCKED, so several sweepers never announce one twice."""
        due = session.execute(
            select(invitations.c.id, invitations.c.institution_id, invitations.c.email)
            .where(invitations.c.status == Status.PENDING.value, invitations.c.expires_at <= now)
            .order_by(invitations.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in due:
            self.outbox.add(
                session,
                "CodeExpired",
                {
                    "invitation_id": row.id,
                    "institution_id": row.institution_id,
                    "email": row.email,
                    "expired_at": now,
                },
            )
        if due:
            session.execute(
                update(invitations)
                .where(invitations.c.id.in_([r.id for r in due]))
                .values(status=Status.EXPIRED.value, code_digest=None, updated_at=now)
            )
        return len(due)

    def record_activation(self, session: Session, event: Event, now: datetime) -> None:
        """AccountActivated: remember the address; its invitation is activated; its other
        pending invitations become enrollments (the person now signs in)."""
        data = event.data
        email = normalise_email(data["email"])
        known = select(activated_addresses.c.email).where(activated_addresses.c.email == email)
        if session.scalar(known) is None:
            session.execute(
                insert(activated_addresses).values(
                    email=email, account_id=data["account_id"], activated_at=data["activated_at"]
                )
            )
        if data.get("invitation_id"):
            used = session.execute(
                select(invitations)
                .where(
                    invitations.c.id == data["invitation_id"],
                    invitations.c.status.in_([Status.PENDING.value, Status.EXPIRED.value]),
                )
                .with_for_update()
            ).first()
            # an expired invitation that was replaced stays expired: its replacement is
            # enrolled below, and one person has one standing invitation per evaluation
            if used is not None and not _replaced(session, used):
                activated = Status.ACTIVATED.value
                _update(session, used.id, status=activated, code_digest=None, updated_at=now)
        others = session.execute(
            select(invitations)
            .where(invitations.c.email == email, invitations.c.status == Status.PENDING.value)
            .with_for_update()
        ).all()
        for other in others:
            notice = self._announce(
                session, other.id, other.institution_id, _candidate_of(other), None, None
            )
            _update(
                session,
                other.id,
                status=Status.ENROLLED.value,
                code_digest=None,
                expires_at=None,
                email_status=EmailStatus.QUEUED.value,
                last_event_id=notice.id,
                updated_at=now,
            )


def _issued_data(row: Mapping[str, Any], code: str | None, *, resent: bool) -> dict[str, Any]:
    return {
        "invitation_id": row["id"],
        "institution_id": row["institution_id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "language": row["language"],
        "evaluation": {"ref": row["evaluation_ref"], "name": row["evaluation_name"]},
        "account_exists": code is None,
        "code": code,
        "expires_at": row["expires_at"],
        "resent": resent,
    }


def record_email_outcome(session: Session, event: Event, now: datetime) -> None:
    """EmailDelivered / EmailFailed of the latest email of an invitation. An email that one
    attempt delivered stays sent, whichever outcome of another attempt arrives last."""
    data = event.data
    if not data.get("invitation_id"):
        return
    delivered = event.type == "EmailDelivered"
    which = [
        invitations.c.id == data["invitation_id"],
        invitations.c.last_event_id == data["source_event_id"],
    ]
    if not delivered:
        which.append(invitations.c.email_status != EmailStatus.SENT.value)
    session.execute(
        update(invitations)
        .where(*which)
        .values(
            email_status=(EmailStatus.SENT if delivered else EmailStatus.FAILED).value,
            email_error=None if delivered else data["reason"],
            updated_at=now,
        )
    )


def find(session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID) -> Row[Any]:
    row = session.execute(
        select(invitations).where(
            invitations.c.id == invitation_id, invitations.c.institution_id == institution_id
        )
    ).first()
    if row is None:
        raise NotFound()
    return row


def page(
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
    query = select(invitations).where(invitations.c.institution_id == institution_id)
    if status:
        query = query.where(invitations.c.status == status)
    if evaluation:
        query = query.where(invitations.c.evaluation_ref == evaluation)
    if email:
        query = query.where(invitations.c.email == normalise_email(email))
    if after is not None:
        created, last_id = after
        query = query.where(
            or_(
                invitations.c.created_at < created,
                and_(invitations.c.created_at == created, invitations.c.id < last_id),
            )
        )
    query = query.order_by(invitations.c.created_at.desc(), invitations.c.id.desc()).limit(limit)
    return list(session.execute(query).all())


def _owned_for_update(
    session: Session, institution_id: uuid.UUID, invitation_id: uuid.UUID
) -> Row[Any]:
    row = session.execute(
        select(invitations)
        .where(invitations.c.id == invitation_id, invitations.c.institution_id == institution_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound()
    return row


def _replaced(session: Session, row: Row[Any]) -> bool:
    """Whether another standing invitation exists for the same person and evaluation."""
    other = session.scalar(
        select(invitations.c.id)
        .where(
            invitations.c.institution_id == row.institution_id,
            invitations.c.email == row.email,
            invitations.c.evaluation_ref == row.evaluation_ref,
            invitations.c.id != row.id,
            invitations.c.status.in_([s.value for s in STANDING]),
        )
        .limit(1)
    )
    return other is not None


def _has_account(session: Session, email: str) -> bool:
    known = select(activated_addresses.c.email).where(activated_addresses.c.email == email)
    return session.scalar(known) is not None


def _update(session: Session, invitation_id: uuid.UUID, **values: Any) -> Row[Any]:
    return session.execute(
        update(invitations)
        .where(invitations.c.id == invitation_id)
        .values(**values)
        .returning(invitations)
    ).one()


def _candidate_of(row: Row[Any]) -> Candidate:
    return Candidate(
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        language=row.language,
        evaluation_ref=row.evaluation_ref,
        evaluation_name=row.evaluation_name,
    )


def as_json(row: Row[Any] | Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    data["evaluation"] = {"ref": data["evaluation_ref"], "name": data["evaluation_name"]}
    return data


def rows_by_id(rows: Iterable[Row[Any]]) -> dict[uuid.UUID, Row[Any]]:
    return {r.id: r for r in rows}
