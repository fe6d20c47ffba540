"""What the exams service learns from other services' events: who the candidates are
(AccountActivated), who may sit which evaluation (AccountActivated and InvitationIssued for an
existing account), and whose device passed its check (DeviceValidated). Events come in any
order, so every step works whichever arrives first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contracts.events.envelope import Event
from exams.domain import normalise_email
from exams.store import candidates, devices, enrolments, evaluations, insert_new


def record_activation(session: Session, event: Event, now: datetime) -> None:
    """A new account: remember how to address it, give it the enrolments that waited for its
    address, and enrol it in the evaluation of the invitation it used."""
    data = event.data
    email = normalise_email(data["email"])
    account_id: uuid.UUID = data["account_id"]
    profile = {
        "email": email,
        "first_name": data["first_name"][:100],
        "last_name": data["last_name"][:100],
        "language": data["language"],
    }
    if not insert_new(
        session,
        candidates,
        {"account_id": account_id, "activated_at": data["activated_at"], **profile},
        "account_id",
    ):
        session.execute(
            update(candidates).where(candidates.c.account_id == account_id).values(**profile)
        )
    session.execute(
        update(enrolments)
        .where(enrolments.c.email == email, enrolments.c.account_id.is_(None))
        .values(account_id=account_id)
    )
    if data.get("institution_id") and data.get("evaluation"):
        evaluation_id = ensure_evaluation(session, data["institution_id"], data["evaluation"], now)
        enrol(session, evaluation_id, email, account_id, now)


def record_invitation(session: Session, event: Event, now: datetime) -> None:
    """An invitation for an address that already has an account enrols it at once. One with a
    code enrols nobody yet: its AccountActivated will, if it is ever used."""
    data = event.data
    if not data["account_exists"]:
        return
    email = normalise_email(data["email"])
    account_id = session.scalar(select(candidates.c.account_id).where(candidates.c.email == email))
    evaluation_id = ensure_evaluation(session, data["institution_id"], data["evaluation"], now)
    enrol(session, evaluation_id, email, account_id, now)


def record_device(session: Session, event: Event) -> None:
    """Keep each account's latest successful check, whatever order the checks arrive in."""
    data = event.data
    values = {
        "check_id": data["check_id"],
        "browser": dict(data["browser"]),
        "validated_at": data["validated_at"],
        "valid_until": data["valid_until"],
    }
    if not insert_new(session, devices, {"account_id": data["account_id"], **values}, "account_id"):
        session.execute(
            update(devices)
            .where(
                devices.c.account_id == data["account_id"],
                devices.c.validated_at < data["validated_at"],
            )
            .values(**values)
        )


def ensure_evaluation(
    session: Session, institution_id: uuid.UUID, evaluation: dict[str, Any], now: datetime
) -> uuid.UUID:
    """The evaluation's id, creating it with the event's name if the coordinator has not
    created it yet; an existing evaluation keeps the name it has."""
    insert_new(
        session,
        evaluations,
        {
            "id": uuid.uuid4(),
            "institution_id": institution_id,
            "ref": evaluation["ref"],
            "name": evaluation["name"],
            "created_at": now,
            "updated_at": now,
        },
        "institution_id",
        "ref",
    )
    evaluation_id: uuid.UUID = session.execute(
        select(evaluations.c.id).where(
            evaluations.c.institution_id == institution_id,
            evaluations.c.ref == evaluation["ref"],
        )
    ).scalar_one()
    return evaluation_id


def enrol(
    session: Session,
    evaluation_id: uuid.UUID,
    email: str,
    account_id: uuid.UUID | None,
    now: datetime,
) -> None:
    values = {
        "id": uuid.uuid4(),
        "evaluation_id": evaluation_id,
        "email": email,
        "account_id": account_id,
        "enrolled_at": now,
    }
    if not insert_new(session, enrolments, values, "evaluation_id", "email") and account_id:
        session.execute(
            update(enrolments)
            .where(
                enrolments.c.evaluation_id == evaluation_id,
                enrolments.c.email == email,
                enrolments.c.account_id.is_(None),
            )
            .values(account_id=account_id)
        )
