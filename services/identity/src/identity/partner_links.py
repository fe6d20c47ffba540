"""Which institutions offer which sign-in partners, and the links between accounts and
their partner accounts (DESIGN section 9)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from identity.domain import Offer, PartnerIdentity, PartnerLinkTaken, PartnerOtherLink
from identity.store import activations, changed_rows, institutions, partner_links


def offer_of(row: Any) -> Offer:
    return Offer(frozenset(row.partners.split()), row.microsoft_tenant)


def offers_to_account(session: Session, account_id: uuid.UUID) -> list[Offer]:
    """The offers of every institution that invited the account."""
    rows = session.execute(
        select(institutions.c.partners, institutions.c.microsoft_tenant)
        .where(
            institutions.c.id.in_(
                select(activations.c.institution_id).where(activations.c.account_id == account_id)
            )
        )
        .order_by(institutions.c.name)
    )
    return [offer_of(row) for row in rows]


def offer_for_invitation(session: Session, invitation_id: uuid.UUID) -> Offer:
    """The offer of the institution behind one invitation; nothing when identity does not
    know that institution."""
    row = session.execute(
        select(institutions.c.partners, institutions.c.microsoft_tenant)
        .join(activations, activations.c.institution_id == institutions.c.id)
        .where(activations.c.invitation_id == invitation_id)
    ).first()
    return offer_of(row) if row is not None else Offer(frozenset())


def set_offer(session: Session, institution_id: uuid.UUID, offer: Offer) -> None:
    session.execute(
        update(institutions)
        .where(institutions.c.id == institution_id)
        .values(partners=" ".join(sorted(offer.partners)), microsoft_tenant=offer.microsoft_tenant)
    )


def linked_account(session: Session, found: PartnerIdentity) -> uuid.UUID | None:
    return session.scalar(
        select(partner_links.c.account_id).where(
            partner_links.c.issuer == found.issuer, partner_links.c.subject == found.subject
        )
    )


def link(session: Session, account_id: uuid.UUID, found: PartnerIdentity, now: datetime) -> None:
    """Remember that ``found`` is the account's way in with its partner. Refused when that
    partner account opens another Nexam account, or this account has another one there."""
    owner = linked_account(session, found)
    if owner == account_id:
        return
    if owner is not None:
        raise PartnerLinkTaken(provider=found.provider)
    if links_of(session, account_id).get(found.provider) is not None:
        raise PartnerOtherLink(provider=found.provider)
    session.execute(
        insert(partner_links).values(
            issuer=found.issuer,
            subject=found.subject,
            provider=found.provider,
            account_id=account_id,
            email=(found.email or "").strip().lower(),
            linked_at=now,
        )
    )


def links_of(session: Session, account_id: uuid.UUID) -> dict[str, Row[Any]]:
    rows = session.execute(select(partner_links).where(partner_links.c.account_id == account_id))
    return {row.provider: row for row in rows}


def unlink(session: Session, account_id: uuid.UUID, provider: str) -> bool:
    return bool(
        changed_rows(
            session,
            delete(partner_links).where(
                partner_links.c.account_id == account_id, partner_links.c.provider == provider
            ),
        )
    )
