"""Activation and sign-in with a sign-in partner (DESIGN section 9). The partner's checked
ID token says who signed in (``PartnerIdentity``); these decide what that opens. The first
use links the account to (provider, issuer, subject); afterwards that link alone signs in,
never the address (a partner account may claim any address: the nOAuth attack)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.internal import PROVIDERS
from contracts.runtime.refusals import Refusal
from identity import partner_links, sessions, sign_in_methods
from identity.domain import (
    Offer,
    PartnerAddressUnverified,
    PartnerIdentity,
    PartnerNoAccount,
    address_counts,
    check_same_address,
    offering,
    require_open,
    verified_address,
)
from identity.signin import find_account, ready_to_sign_in
from identity.store import account_by_id, accounts
from identity.terms import Terms
from identity.throttle import check_lock, forgive, throttle_key

AMR = ("sso",)


def offered_at_activation(session: Session, holder: Row[Any], turned_on: list[str]) -> list[str]:
    """The partners an activation may use: its institution offers them and the operator
    turned them on."""
    offer = partner_links.offer_for_invitation(session, holder.via_invitation)
    return [p for p in PROVIDERS if p in offer.partners and p in turned_on]


def activate(session: Session, holder: Row[Any], found: PartnerIdentity, now: datetime) -> None:
    """The partner instead of a password: the invited address, vouched for by the partner,
    and the partner account linked to no other account."""
    require_open(holder, "partner")
    offer = offering([partner_links.offer_for_invitation(session, holder.via_invitation)], found)
    check_same_address(found, offer, holder.email)
    partner_links.link(session, holder.id, found, now)
    session.execute(
        update(accounts).where(accounts.c.id == holder.id).values(activated_with=found.provider)
    )


def sign_in(
    session: Session,
    outbox: Outbox,
    *,
    found: PartnerIdentity,
    terms: Terms,
    accepted_terms: dict[str, str] | None,
    now: datetime,
) -> tuple[sessions.Opened, str | None] | Refusal:
    """A session for the account linked to ``found``, or for the active account with its
    verified address whose institution offers the partner (linked from then on), and the
    account's language. Refusals after a write are returned, to be answered once it is
    committed."""
    account_id = partner_links.linked_account(session, found)
    if account_id is not None:
        account = account_by_id(session, account_id)
        assert account is not None
        # the institution may have stopped offering the partner since
        offering(partner_links.offers_to_account(session, account.id), found)
    else:
        account = _by_verified_address(session, found)
        partner_links.link(session, account.id, found, now)
        sign_in_methods.announce(session, outbox, account.id, now)
    check_lock(session, account.email, now, account.language)
    not_ready = ready_to_sign_in(session, terms, account, accepted_terms, now)
    if not_ready is not None:
        return not_ready
    # as strong a proof as a complete sign-in with a password and an emailed code
    forgive(session, throttle_key(account.email))
    return sessions.open_session(session, account.id, AMR, now), account.language


def _by_verified_address(session: Session, found: PartnerIdentity) -> Row[Any]:
    """The active account whose address the partner vouches for. Whether the address counts
    is settled before anything is said about the account, so that a partner account
    claiming someone's address without proof learns nothing."""
    account = find_account(session, found.email) if found.email else None
    active = account if account is not None and account.status == "active" else None
    offers = partner_links.offers_to_account(session, active.id) if active is not None else []
    if not any(address_counts(found, offer) for offer in [Offer(frozenset()), *offers]):
        raise PartnerAddressUnverified(provider=found.provider)
    if active is None:
        raise PartnerNoAccount(provider=found.provider)
    verified_address(found, offering(offers, found))
    return active
