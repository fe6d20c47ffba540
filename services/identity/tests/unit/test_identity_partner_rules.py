"""The sign-in partners' rules with no I/O (DESIGN section 9): who offers a partner, and when
a partner's address counts."""

from __future__ import annotations

import pytest

from identity.domain import (
    Offer,
    PartnerAddressMismatch,
    PartnerAddressUnverified,
    PartnerIdentity,
    PartnerNotOffered,
    PartnerWrongTenant,
    address_counts,
    check_same_address,
    offering,
)

TENANT = "7f3c1a52-1d6e-4b8a-9c2f-0a1b2c3d4e5f"
OTHER_TENANT = "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f"


def google(**kwargs: object) -> PartnerIdentity:
    values = {"email": "Ada@Example.edu", "email_verified": True, **kwargs}
    return PartnerIdentity("google", "https://accounts.google.com", "1", **values)  # type: ignore[arg-type]


def microsoft(**kwargs: object) -> PartnerIdentity:
    values = {"email": "ada@example.edu", "tenant": TENANT, **kwargs}
    return PartnerIdentity("microsoft", f"https://login/{TENANT}/v2.0", "1", **values)  # type: ignore[arg-type]


def test_a_partner_counts_only_where_an_institution_offers_it() -> None:
    with pytest.raises(PartnerNotOffered):
        offering([Offer(frozenset({"microsoft"})), Offer(frozenset())], google())
    assert offering([Offer(frozenset()), Offer(frozenset({"google"}))], google()).partners == {
        "google"
    }


def test_a_pinned_tenant_keeps_other_tenants_out_unless_another_institution_lets_them() -> None:
    pinned = Offer(frozenset({"microsoft"}), TENANT)
    with pytest.raises(PartnerWrongTenant):
        offering([pinned], microsoft(tenant=OTHER_TENANT))
    assert offering([pinned], microsoft()) == pinned
    unpinned = Offer(frozenset({"microsoft"}))
    assert offering([pinned, unpinned], microsoft(tenant=OTHER_TENANT)) == unpinned


def test_which_addresses_count() -> None:
    anyone = Offer(frozenset({"google", "microsoft"}))
    assert address_counts(google(), anyone)
    assert not address_counts(google(email_verified=False), anyone)
    assert not address_counts(google(email=None), anyone)
    assert address_counts(microsoft(domain_verified=True), anyone)
    assert not address_counts(microsoft(), anyone)
    assert address_counts(microsoft(), Offer(frozenset({"microsoft"}), TENANT))
    assert not address_counts(microsoft(tenant=OTHER_TENANT), Offer(frozenset(), TENANT))


def test_activation_needs_the_invited_address_case_aside() -> None:
    anyone = Offer(frozenset({"google"}))
    check_same_address(google(), anyone, "ada@example.edu")
    with pytest.raises(PartnerAddressMismatch):
        check_same_address(google(email="eve@example.edu"), anyone, "ada@example.edu")
    with pytest.raises(PartnerAddressUnverified):
        check_same_address(google(email_verified=False), anyone, "ada@example.edu")
