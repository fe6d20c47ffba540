"""Identity's real answers to the gateway load by their contracts (``contracts.events.
internal``), as the gateway loads them."""

from __future__ import annotations

import uuid

from identity_testkit import IdentityWorld

from contracts.events.internal import ApiClientSchema, SignedInSchema
from identity import clients


def test_the_code_step_and_the_refresh_answer_by_contract(world: IdentityWorld) -> None:
    world.active_account("ada@example.org")
    signed = world.signed_in("ada@example.org")
    loaded = SignedInSchema().load(signed.body)
    assert loaded["session_id"] == str(signed.session_id)
    assert loaded["account_id"] == str(signed.account_id)
    assert (loaded["roles"], loaded["amr"], loaded["language"]) == (
        ["candidate"],
        ["pwd", "otp"],
        "en",
    )
    refreshed = world.refresh(signed.refresh_token)
    assert refreshed.status_code == 200
    assert SignedInSchema().load(refreshed.json)["session_id"] == str(signed.session_id)


def test_the_client_check_answers_by_contract(world: IdentityWorld) -> None:
    with world.sessions() as session, session.begin():
        clients.create_institution(session, "Collège Nord", world.clock())
        issued = clients.create_client(session, "Collège Nord", "SIS", world.clock())
    answer = world.client.post(
        "/internal/v1/api-clients/authenticate",
        json={"client_id": issued.client_id, "client_secret": issued.client_secret},
        headers=world.gateway(),
    )
    assert answer.status_code == 200
    assert ApiClientSchema().load(answer.json) == {
        "client_id": issued.client_id,
        "institution_id": str(issued.institution_id),
        "name": "SIS",
    }
    assert uuid.UUID(answer.json["institution_id"]) == issued.institution_id
