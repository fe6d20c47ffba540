"""``nexam-admin institution sso`` and ``nexam-admin account unlink``: operators choose the
sign-in partners each institution offers and remove an account's link (DESIGN section 9)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from identity_testkit import IdentityWorld
from sqlalchemy import insert, select

from contracts.testing.oidc import TENANT_A
from identity.admin import main as nexam_admin
from identity.store import partner_links, sign_in_sessions


def admin(world: IdentityWorld, *args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(
        nexam_admin, list(args), env={"IDENTITY_DATABASE_URL": world.database_url}
    )
    assert (result.exit_code == 0) == ok, result.output
    return json.loads(result.output) if ok and result.output.strip() else result.output


def test_an_institution_offers_the_partners_it_chose(world: IdentityWorld) -> None:
    admin(world, "institution", "create", "Lycée Pasteur")
    (listed,) = admin(world, "institution", "list")
    assert listed["sso"] == {"allow": [], "microsoft_tenant": None}

    chosen = admin(
        world,
        "institution", "sso", "Lycée Pasteur",
        "--allow", "microsoft,google", "--microsoft-tenant", TENANT_A.upper(),
    )  # fmt: skip
    assert chosen["sso"] == {"allow": ["google", "microsoft"], "microsoft_tenant": TENANT_A}
    (listed,) = admin(world, "institution", "list")
    assert listed["sso"] == chosen["sso"]

    admin(world, "institution", "sso", "Lycée Pasteur", "--allow", "none")
    (listed,) = admin(world, "institution", "list")
    assert listed["sso"] == {"allow": [], "microsoft_tenant": None}


def test_wrong_choices_are_refused_in_words(world: IdentityWorld) -> None:
    admin(world, "institution", "create", "Lycée Pasteur")
    for args, words in (
        (("--allow", "facebook"), "--allow takes microsoft, google"),
        (("--allow", ""), "--allow takes"),
        (("--allow", "google", "--microsoft-tenant", TENANT_A), "needs microsoft"),
        (("--allow", "microsoft", "--microsoft-tenant", "contoso"), "a tenant id"),
    ):
        output = admin(world, "institution", "sso", "Lycée Pasteur", *args, ok=False)
        assert words in output and "Traceback" not in output
    output = admin(world, "institution", "sso", "Nowhere", "--allow", "google", ok=False)
    assert "No institution named 'Nowhere'" in output


def test_unlinking_removes_the_link_and_ends_the_sessions(world: IdentityWorld) -> None:
    account_id = world.active_account("ada@example.org")
    signed = world.signed_in("ada@example.org")
    with world.sessions() as session, session.begin():
        session.execute(
            insert(partner_links).values(
                issuer="https://accounts.google.com",
                subject="1234",
                provider="google",
                account_id=account_id,
                email="ada@example.org",
                linked_at=world.clock(),
            )
        )
    output = admin(
        world, "account", "unlink", "ada@example.org", "--provider", "microsoft", ok=False
    )
    assert "has no link to microsoft" in output
    assert admin(world, "account", "unlink", "ADA@example.org", "--provider", "google") == {
        "email": "ada@example.org",
        "provider": "google",
        "unlinked": True,
    }
    with world.engine.connect() as db:
        assert db.execute(select(partner_links)).all() == []
        ended = db.execute(select(sign_in_sessions.c.id, sign_in_sessions.c.revoked_reason)).all()
    assert [tuple(row) for row in ended] == [(signed.session_id, "partner_unlinked")]
    assert world.refresh(signed.refresh_token).status_code == 401
    output = admin(
        world, "account", "unlink", "nobody@example.org", "--provider", "google", ok=False
    )
    assert "No account for 'nobody@example.org'" in output
