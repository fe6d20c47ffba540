"""Institutions and their API clients. A client secret is 256 random bits shown once; only
its SHA-256 digest is kept (a secret that long cannot be guessed, so a slow hash would add
nothing but latency to every token request)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.store import api_clients, institutions

CLIENT_PREFIX = "nxc_"


class AdminError(Exception):
    """An operator's request that cannot be done, with the reason."""


@dataclass(frozen=True)
class IssuedClient:
    client_id: str
    client_secret: str
    institution_id: uuid.UUID


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_institution(session: Session, name: str, now: datetime) -> Row[Any]:
    name = name.strip()
    if not name:
        raise AdminError("An institution needs a name.")
    try:
        with session.begin_nested():
            return session.execute(
                insert(institutions)
                .values(id=uuid.uuid4(), name=name, created_at=now)
                .returning(institutions)
            ).one()
    except IntegrityError:
        raise AdminError(f"An institution named {name!r} already exists.") from None


def find_institution(session: Session, name: str) -> Row[Any]:
    row = session.execute(select(institutions).where(institutions.c.name == name.strip())).first()
    if row is None:
        raise AdminError(f"No institution named {name!r}.")
    return row


def list_institutions(session: Session) -> list[Row[Any]]:
    return list(session.execute(select(institutions).order_by(institutions.c.name)).all())


def delete_institution(session: Session, name: str) -> None:
    institution = find_institution(session, name)
    if session.scalar(
        select(api_clients.c.id).where(api_clients.c.institution_id == institution.id)
    ):
        raise AdminError(f"{name!r} still has API clients; delete them first.")
    session.execute(delete(institutions).where(institutions.c.id == institution.id))


def create_client(
    session: Session, institution_name: str, name: str, now: datetime
) -> IssuedClient:
    institution = find_institution(session, institution_name)
    client_id = CLIENT_PREFIX + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    session.execute(
        insert(api_clients).values(
            id=client_id,
            institution_id=institution.id,
            name=name.strip() or client_id,
            secret_digest=secret_digest(secret),
            created_at=now,
            secret_rotated_at=now,
        )
    )
    return IssuedClient(client_id, secret, institution.id)


def list_clients(session: Session, institution_name: str | None = None) -> list[Any]:
    query = select(
        api_clients.c.id,
        api_clients.c.name,
        api_clients.c.created_at,
        api_clients.c.secret_rotated_at,
        institutions.c.name.label("institution"),
        institutions.c.id.label("institution_id"),
    ).join(institutions, institutions.c.id == api_clients.c.institution_id)
    if institution_name:
        query = query.where(institutions.c.name == institution_name.strip())
    return list(session.execute(query.order_by(institutions.c.name, api_clients.c.name)).all())


def rotate_secret(session: Session, client_id: str, now: datetime) -> IssuedClient:
    """A new secret; the previous one stops working at once."""
    row = session.execute(select(api_clients).where(api_clients.c.id == client_id)).first()
    if row is None:
        raise AdminError(f"No API client {client_id!r}.")
    secret = secrets.token_urlsafe(32)
    session.execute(
        update(api_clients)
        .where(api_clients.c.id == client_id)
        .values(secret_digest=secret_digest(secret), secret_rotated_at=now)
    )
    return IssuedClient(client_id, secret, row.institution_id)


def delete_client(session: Session, client_id: str) -> None:
    result = session.execute(delete(api_clients).where(api_clients.c.id == client_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise AdminError(f"No API client {client_id!r}.")


def authenticate_client(session: Session, client_id: str, secret: str) -> Row[Any] | None:
    """The client when ``secret`` is its current secret; None otherwise (whatever failed)."""
    row = session.execute(select(api_clients).where(api_clients.c.id == client_id)).first()
    expected = row.secret_digest if row is not None else secret_digest(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, secret_digest(secret)) or row is None:
        return None
    return row
