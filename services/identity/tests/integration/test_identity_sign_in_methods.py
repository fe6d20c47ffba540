"""How an account signs in (password, microsoft, google), announced as SignInMethodsChanged in
the same transaction as each change: an activation with a password or with a partner, a
password set by a reset where there was none, a link removed with ``nexam-admin``."""

from __future__ import annotations

import uuid
from typing import Any

from click.testing import CliRunner, Result
from identity_testkit import NEW_PASSWORD, PASSWORD, IdentityWorld, Invitation
from sqlalchemy import update

from identity import partner_admin, partner_links
from identity.admin import main as nexam_admin
from identity.domain import PartnerIdentity
from identity.store import accounts

EMAIL = "ada@example.org"
ISSUERS = {"google": "https://accounts.google.com", "microsoft": "https://login.example.com/t"}


def announced(world: IdentityWorld, email: str = EMAIL) -> list[dict[str, Any]]:
    """The data of every SignInMethodsChanged of ``email``, oldest first."""
    return [e.data for e in world.events("SignInMethodsChanged") if e.data["email"] == email]


def sign_in_with_partner(world: IdentityWorld, email: str, provider: str) -> None:
    """What the partner's sign-in does to an account (its own code, tested on its own):
    the link, and during an activation the partner chosen instead of a password."""
    found = PartnerIdentity(provider, ISSUERS[provider], f"subject-{uuid.uuid4()}", email)
    account = world.account(email)
    with world.sessions() as session, session.begin():
        partner_links.link(session, account.id, found, world.clock())
        if account.status == "pending":
            session.execute(
                update(accounts).where(accounts.c.id == account.id).values(activated_with=provider)
            )


def activate_with_partner(world: IdentityWorld, invitation: Invitation, provider: str) -> None:
    token = world.activation_token(invitation)
    sign_in_with_partner(world, invitation.email, provider)
    assert world.step(token, "language", {"language": "en"}).status_code == 200
    answer = world.step(token, "terms", world.terms())
    assert answer.status_code == 200, answer.json
    assert world.account(invitation.email).status == "active"


def reset_password(world: IdentityWorld, email: str) -> None:
    world.client.post("/api/v1/password/forgot", json={"email": email})
    world.deliver_own_events()
    token = world.reset_tokens(email)[-1]
    answer = world.client.post(
        "/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert answer.status_code == 200, answer.json


def unlink(world: IdentityWorld, email: str, provider: str) -> dict[str, Any]:
    """What ``nexam-admin account unlink`` does, at the test clock's time."""
    with world.sessions() as session, session.begin():
        return partner_admin.unlink(session, world.context.outbox, email, provider, world.clock())


def nexam_admin_unlink(world: IdentityWorld, email: str, provider: str) -> Result:
    return CliRunner().invoke(
        nexam_admin, ["account", "unlink", email, "--provider", provider], env=world.env
    )


def test_an_activation_with_a_password_announces_the_password(world: IdentityWorld) -> None:
    invitation = world.invite(EMAIL)
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200
    assert announced(world) == []  # not a way in before the activation completes

    account_id = world.activate(invitation)

    (activated,) = world.events("AccountActivated")
    assert announced(world) == [
        {
            "account_id": account_id,
            "email": EMAIL,
            "methods": ["password"],
            "changed_at": activated.data["activated_at"],
        }
    ]


def test_a_partner_s_account_gains_a_password_by_reset_and_loses_the_partner_by_unlink(
    world: IdentityWorld,
) -> None:
    activate_with_partner(world, world.invite(EMAIL), "google")
    account_id = world.account(EMAIL).id
    activated_at = world.clock()
    assert [a["methods"] for a in announced(world)] == [["google"]]

    reset_at = world.clock.advance(days=1)
    reset_password(world, EMAIL)
    assert [a["methods"] for a in announced(world)] == [["google"], ["google", "password"]]

    unlinked_at = world.clock.advance(days=1)
    assert unlink(world, EMAIL, "google") == {
        "email": EMAIL,
        "provider": "google",
        "unlinked": True,
    }

    assert [(a["methods"], a["changed_at"]) for a in announced(world)] == [
        (["google"], activated_at),
        (["google", "password"], reset_at),
        (["password"], unlinked_at),
    ]
    assert {a["account_id"] for a in announced(world)} == {account_id}


def test_unlinking_each_partner_of_an_account_without_a_password_leaves_no_way_in(
    world: IdentityWorld,
) -> None:
    activate_with_partner(world, world.invite(EMAIL), "microsoft")
    sign_in_with_partner(world, EMAIL, "google")

    unlink(world, EMAIL, "google")
    unlink(world, EMAIL, "microsoft")

    assert [a["methods"] for a in announced(world)] == [["microsoft"], ["microsoft"], []]


def test_a_reset_of_a_password_the_account_had_announces_nothing(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    before = announced(world)

    reset_password(world, EMAIL)

    assert len(world.events("PasswordChanged")) == 1
    assert announced(world) == before


def test_nexam_admin_unlink_announces_and_a_failed_one_does_not(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    sign_in_with_partner(world, EMAIL, "microsoft")

    done = nexam_admin_unlink(world, EMAIL, "microsoft")
    assert done.exit_code == 0, done.output
    assert [a["methods"] for a in announced(world)] == [["password"], ["password"]]

    refused = nexam_admin_unlink(world, EMAIL, "microsoft")
    assert refused.exit_code != 0
    assert "has no link to microsoft" in refused.output
    assert len(announced(world)) == 2
