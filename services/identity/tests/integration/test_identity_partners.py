"""Activation and sign-in with Microsoft and Google (DESIGN section 9), against a real
OpenID Connect provider (``oidc_provider``: oidc-provider standing in for both), through
identity's internal API as the gateway calls it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from identity_testkit import IdentityWorld, Invitation, identity_world
from sqlalchemy import insert, select

from contracts.testing.oidc import TENANT_A, TENANT_B, OidcProvider, OidcUser
from identity import partner_admin
from identity.domain import Offer
from identity.partner_links import set_offer
from identity.store import institutions, partner_links

GATEWAY = "http://127.0.0.1:8000"


@pytest.fixture
def world(
    database_url: str, tmp_path: Path, oidc_provider: OidcProvider
) -> Iterator[IdentityWorld]:
    # the provider lets loopback addresses only be redirect URIs
    env = {**oidc_provider.env(), "PUBLIC_URL": GATEWAY}
    with identity_world(database_url, tmp_path, **env) as built:
        yield built


def offer(
    world: IdentityWorld, invitation: Invitation, *partners: str, tenant: str | None = None
) -> None:
    """The invitation's institution, offering ``partners``."""
    with world.sessions() as session, session.begin():
        session.execute(
            insert(institutions).values(
                id=invitation.institution_id,
                name=f"Institution {invitation.institution_id}",
                created_at=world.clock(),
            )
        )
        set_offer(session, invitation.institution_id, Offer(frozenset(partners), tenant))


def email() -> str:
    return f"cand-{uuid.uuid4().hex[:10]}@example.edu"


def invited(world: IdentityWorld, *partners: str, tenant: str | None = None) -> Invitation:
    """A new candidate, invited by an institution that offers ``partners``."""
    invitation = world.invite(email())
    offer(world, invitation, *partners, tenant=tenant)
    return invitation


def active_candidate(world: IdentityWorld, *partners: str) -> str:
    """A new candidate, activated with a password at an institution that offers
    ``partners``: its address."""
    invitation = invited(world, *partners)
    world.activate(invitation)
    return invitation.email


class Partner:
    """The gateway's side of the flow: ask for the authorization, let the provider sign the
    user in, bring the code back with what the browser's session kept."""

    def __init__(self, world: IdentityWorld, provider: OidcProvider) -> None:
        self.world = world
        self.provider = provider

    def authorize(self, name: str, user: OidcUser | str) -> dict[str, Any]:
        hint = user if isinstance(user, str) else user.sub
        answer = self.world.client.post(
            f"/internal/v1/partners/{name}/authorization",
            json={"login_hint": hint},
            headers=self.world.gateway(),
        )
        assert answer.status_code == 200, answer.json
        kept: dict[str, Any] = answer.json  # type: ignore[assignment]
        back = urlsplit(self.provider.follow(kept["authorization_url"]))
        assert f"{back.scheme}://{back.netloc}{back.path}" == (
            f"{GATEWAY}/connexion/partenaire/{name}/retour"
        )
        query = {k: v[0] for k, v in parse_qs(back.query).items()}
        if "error" not in query:
            assert query["state"] == kept["state"]
        return {**kept, **query}

    def call(self, name: str, what: str, kept: dict[str, Any], **extra: Any) -> Any:
        headers = {**self.world.gateway(), **extra.pop("headers", {})}
        body = {k: kept[k] for k in ("code", "code_verifier", "nonce")}
        return self.world.client.post(
            f"/internal/v1/partners/{name}/{what}", json={**body, **extra}, headers=headers
        )

    def sign_in(self, name: str, user: OidcUser, **extra: Any) -> Any:
        return self.call(name, "sign-in", self.authorize(name, user), **extra)

    def activate(self, name: str, user: OidcUser, token: str) -> Any:
        return self.call(name, "activation", self.authorize(name, user), activation_token=token)


@pytest.fixture
def partner(world: IdentityWorld, oidc_provider: OidcProvider) -> Partner:
    return Partner(world, oidc_provider)


@pytest.mark.parametrize("name", ["google", "microsoft"])
def test_activation_with_a_partner_then_sign_in_with_it(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider, name: str
) -> None:
    invitation = invited(world, "google", "microsoft")
    address = invitation.email
    token = world.activation_token(invitation)
    view = world.client.get("/api/v1/activation", headers=world.bearer(token)).json
    assert view["partners"] == ["microsoft", "google"]
    user = oidc_provider.add_user(name, email=address.upper(), xms_edov=True)

    answer = partner.activate(name, user, token)
    assert answer.status_code == 200, answer.json
    assert [s["name"] for s in answer.json["steps"]] == ["partner", "language", "terms"]
    assert world.step(token, "password", {"password": "x"}).status_code in (200, 422)
    assert world.step(token, "language", {"language": "fr"}).status_code == 200
    done = world.step(token, "terms", world.terms())
    assert (done.status_code, done.json["status"]) == (200, "active")
    assert all(step["done"] for step in done.json["steps"])
    account = world.account(address)
    assert (account.status, account.activated_with, account.two_factor) == ("active", name, None)
    (activated,) = world.events("AccountActivated")
    (ways_in,) = world.events("SignInMethodsChanged")
    assert ways_in.data["methods"] == [name]
    assert str(activated.data["invitation_id"]) == str(invitation.id)
    assert world.step(token, "terms", world.terms()).status_code == 401  # the token is spent

    signed = partner.sign_in(name, user)
    assert signed.status_code == 201, signed.json
    assert signed.json["amr"] == ["sso"]
    assert signed.json["account_id"] == str(account.id)
    assert signed.json["language"] == "fr"


def test_a_pinned_tenant_vouches_for_the_address_and_keeps_other_tenants_out(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    invitation = invited(world, "microsoft", tenant=TENANT_A)
    address = invitation.email
    token = world.activation_token(invitation)
    stranger = oidc_provider.add_user("microsoft", email=address, tenant=TENANT_B, xms_edov=True)
    refused = partner.activate("microsoft", stranger, token)
    assert (refused.status_code, refused.json["error"]) == (403, "partner_wrong_tenant")

    member = oidc_provider.add_user("microsoft", email=address, tenant=TENANT_A)  # no xms_edov
    assert partner.activate("microsoft", member, token).status_code == 200


@pytest.mark.parametrize(
    ("offered", "user_kwargs", "error", "status"),
    [
        (("google",), {"email_verified": False}, "partner_address_unverified", 403),
        (("google",), {"email": "someone.else@example.edu"}, "partner_address_mismatch", 403),
        (("microsoft",), {}, "partner_not_offered", 403),
    ],
)
def test_activation_refusals(
    world: IdentityWorld,
    partner: Partner,
    oidc_provider: OidcProvider,
    offered: tuple[str, ...],
    user_kwargs: dict[str, Any],
    error: str,
    status: int,
) -> None:
    invitation = invited(world, *offered)
    address = invitation.email
    user = oidc_provider.add_user("google", **{"email": address, **user_kwargs})
    answer = partner.activate("google", user, world.activation_token(invitation))
    assert (answer.status_code, answer.json["error"]) == (status, error)
    assert answer.json["message"]
    account = world.account(address)
    assert account.activated_with is None
    with world.engine.connect() as db:
        assert db.execute(select(partner_links)).all() == []


def test_microsoft_without_a_verified_domain_or_a_pinned_tenant_vouches_for_nothing(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    invitation = invited(world, "microsoft")
    address = invitation.email
    user = oidc_provider.add_user("microsoft", email=address, xms_edov=False)
    answer = partner.activate("microsoft", user, world.activation_token(invitation))
    assert (answer.status_code, answer.json["error"]) == (403, "partner_address_unverified")


def test_sign_in_links_an_active_account_by_its_verified_address_then_trusts_the_link_only(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    address = active_candidate(world, "google")
    # someone who controls a partner account claiming the address, without proof, gets nothing
    attacker = oidc_provider.add_user("google", email=address, email_verified=False)
    refused = partner.sign_in("google", attacker)
    assert (refused.status_code, refused.json["error"]) == (403, "partner_address_unverified")

    owner = oidc_provider.add_user("google", email=address)
    first = partner.sign_in("google", owner)
    assert first.status_code == 201, first.json
    announced = world.events("SignInMethodsChanged")[-1]
    assert announced.data["methods"] == ["google", "password"]
    # the link, not the address: it holds when the partner account's address changes...
    oidc_provider.change_email("google", owner.sub, email())
    assert partner.sign_in("google", owner).json["account_id"] == first.json["account_id"]
    # ...and a second verified account claiming the address does not replace it
    twin = oidc_provider.add_user("google", email=address)
    other = partner.sign_in("google", twin)
    assert (other.status_code, other.json["error"]) == (409, "partner_other_link")

    partner_admin_unlink(world, address, "google")
    gone = partner.sign_in("google", owner)
    # its address is no longer the account's: nothing links it any more
    assert (gone.status_code, gone.json["error"]) == (404, "partner_no_account")


def partner_admin_unlink(world: IdentityWorld, address: str, provider: str) -> None:
    with world.sessions() as session, session.begin():
        partner_admin.unlink(session, world.context.outbox, address, provider, world.clock())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_account_yet_is_said_in_the_callers_language(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider, language: str
) -> None:
    user = oidc_provider.add_user("google", email=email())
    answer = partner.sign_in("google", user, headers={"Accept-Language": language})
    assert (answer.status_code, answer.json["error"]) == (404, "partner_no_account")
    assert ("Activez" in answer.json["message"]) == (language == "fr")


def test_a_pending_account_cannot_sign_in_with_a_partner_by_its_address(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    address = email()
    offer(world, world.invite(address), "google")
    answer = partner.sign_in("google", oidc_provider.add_user("google", email=address))
    assert (answer.status_code, answer.json["error"]) == (404, "partner_no_account")


def test_the_accounts_lock_holds_for_a_partner_too(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    address = active_candidate(world, "google")
    for _ in range(6):
        world.sign_in(address, "Wrong-password-1")
    answer = partner.sign_in("google", oidc_provider.add_user("google", email=address))
    assert (answer.status_code, answer.json["error"]) == (429, "too_many_attempts")
    assert int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize("what", ["audience", "key", "nonce", "issuer", "expired"])
@pytest.mark.parametrize("name", ["google", "microsoft"])
def test_an_id_token_failing_a_check_is_refused(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider, name: str, what: str
) -> None:
    address = active_candidate(world, name)
    user = oidc_provider.add_user(name, email=address, xms_edov=True)
    oidc_provider.tamper(name, user.sub, what)
    answer = partner.sign_in(name, user)
    assert (answer.status_code, answer.json["error"]) == (401, "partner_refused")
    assert partner.sign_in(name, user).status_code == 201  # the next, untampered, token


def test_a_wrong_nonce_or_a_code_used_twice_is_refused(
    world: IdentityWorld, partner: Partner, oidc_provider: OidcProvider
) -> None:
    address = active_candidate(world, "google")
    user = oidc_provider.add_user("google", email=address)
    kept = partner.authorize("google", user)
    wrong = partner.call("google", "sign-in", {**kept, "nonce": "another-browser"})
    assert (wrong.status_code, wrong.json["error"]) == (401, "partner_refused")
    kept = partner.authorize("google", user)
    assert partner.call("google", "sign-in", kept).status_code == 201
    again = partner.call("google", "sign-in", kept)
    assert (again.status_code, again.json["error"]) == (401, "partner_refused")


def test_a_partner_turned_off_or_unreachable_is_said_so(
    world: IdentityWorld, oidc_provider: OidcProvider, database_url: str, tmp_path: Path
) -> None:
    listed = world.client.get("/internal/v1/partners", headers=world.gateway())
    origin = oidc_provider.base_url
    assert listed.json == {
        "partners": ["microsoft", "google"],
        "origins": {"microsoft": origin, "google": origin},
    }
    with identity_world(database_url, tmp_path / "off") as off:
        assert off.client.get("/internal/v1/partners", headers=off.gateway()).json == {
            "partners": [],
            "origins": {},
        }
        answer = off.client.post(
            "/internal/v1/partners/google/authorization", json={}, headers=off.gateway()
        )
        assert (answer.status_code, answer.json["error"]) == (404, "partner_unavailable")
    down = world.again(OIDC_GOOGLE_ISSUER="http://127.0.0.1:9/google")
    answer = down.client.post(
        "/internal/v1/partners/google/authorization", json={}, headers=down.gateway()
    )
    assert (answer.status_code, answer.json["error"]) == (503, "partner_unreachable")
    assert answer.headers["Retry-After"] == "30"
    unknown = world.client.post(
        "/internal/v1/partners/facebook/authorization", json={}, headers=world.gateway()
    )
    assert unknown.status_code == 404


def test_new_terms_are_asked_at_a_partners_sign_in_too(
    world: IdentityWorld, oidc_provider: OidcProvider
) -> None:
    address = active_candidate(world, "google")
    user = oidc_provider.add_user("google", email=address)
    republished = Partner(world.again(TERMS_VERSION="2027-01-01"), oidc_provider)
    asked = republished.sign_in("google", user)
    assert (asked.status_code, asked.json["error"]) == (409, "terms_outdated")
    assert asked.json["terms_version"] == "2027-01-01"
    current = {"terms_version": "2027-01-01", "privacy_version": asked.json["privacy_version"]}
    accepted = republished.sign_in("google", user, **current)
    assert accepted.status_code == 201, accepted.json
    assert world.account(address).terms_version == "2027-01-01"
