"""How each candidate signs in (password, microsoft, google), as an institution's API client
reads it in the invitation's status: projected from SignInMethodsChanged, whatever order the
events come in, the latest change winning; empty until the candidate has an account; never
a way to learn of another institution's candidates."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from invitations_testkit import START, World

from contracts.events.envelope import Event
from contracts.testing.events import example_event

BOTH_ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "reversed"])
EMAIL = "ada@example.org"


def api_client(world: World, institution: uuid.UUID | None = None) -> dict[str, str]:
    return world.auth(institution, roles=["api_client"])


def activated(world: World, invitation_id: str, account_id: uuid.UUID) -> Event:
    return example_event(
        "AccountActivated",
        account_id=account_id,
        email=EMAIL,
        invitation_id=invitation_id,
        institution_id=world.institution,
        activated_at=START,
    )


def methods_changed(account_id: uuid.UUID, methods: list[str], at: datetime) -> Event:
    return example_event(
        "SignInMethodsChanged", account_id=account_id, email=EMAIL, methods=methods, changed_at=at
    )


def shown(world: World, invitation_id: str, institution: uuid.UUID | None = None) -> Any:
    """``sign_in_methods`` of one invitation, read alone and in the list, which must agree."""
    headers = api_client(world, institution)
    one = world.client.get(f"/api/v1/invitations/{invitation_id}", headers=headers)
    assert one.status_code == 200, one.get_json()
    listing = world.client.get("/api/v1/invitations", headers=headers).get_json()
    (listed,) = [item for item in listing["items"] if item["id"] == invitation_id]
    assert listed["sign_in_methods"] == one.get_json()["sign_in_methods"]
    return one.get_json()["sign_in_methods"]


def _in_order(steps: list[Callable[[], object]], reverse: bool) -> None:
    for step in reversed(steps) if reverse else steps:
        step()


def test_an_invitation_shows_no_way_in_until_its_candidate_activates(world: World) -> None:
    created = world.invite(EMAIL, headers=api_client(world))

    assert created.status_code == 201
    assert created.get_json()["sign_in_methods"] == []
    assert shown(world, created.get_json()["id"]) == []


@BOTH_ORDERS
def test_the_activation_and_the_ways_in_show_together_in_either_order(
    world: World, reverse: bool
) -> None:
    created = world.invited(EMAIL)
    account_id = uuid.uuid4()

    _in_order(
        [
            lambda: world.handle(activated(world, created["id"], account_id)),
            lambda: world.handle(methods_changed(account_id, ["password"], START)),
        ],
        reverse,
    )

    assert world.get(created["id"])["status"] == "activated"
    assert shown(world, created["id"]) == ["password"]


def test_ways_in_known_before_the_activation_show_only_once_it_arrives(world: World) -> None:
    created = world.invited(EMAIL)
    account_id = uuid.uuid4()
    world.handle(methods_changed(account_id, ["google"], START))

    assert shown(world, created["id"]) == []

    world.handle(activated(world, created["id"], account_id))

    assert shown(world, created["id"]) == ["google"]


@BOTH_ORDERS
def test_the_latest_change_wins_whatever_order_the_changes_come_in(
    world: World, reverse: bool
) -> None:
    created = world.invited(EMAIL)
    account_id = uuid.uuid4()
    world.handle(activated(world, created["id"], account_id))
    changes = [
        methods_changed(account_id, ["password"], START),
        methods_changed(account_id, ["google", "password"], START + timedelta(days=1)),
        methods_changed(account_id, ["google"], START + timedelta(days=2)),
    ]

    for event in reversed(changes) if reverse else changes:
        world.handle(event)

    assert shown(world, created["id"]) == ["google"]


def test_an_older_change_is_ignored_and_no_way_in_left_shows_empty(world: World) -> None:
    created = world.invited(EMAIL)
    account_id = uuid.uuid4()
    world.handle(activated(world, created["id"], account_id))
    world.handle(methods_changed(account_id, [], START + timedelta(days=3)))

    world.handle(methods_changed(account_id, ["microsoft", "password"], START))

    assert shown(world, created["id"]) == []


def test_an_address_with_an_account_is_enrolled_showing_its_ways_in(world: World) -> None:
    first = world.invited(EMAIL, ref="MATH101")
    account_id = uuid.uuid4()
    world.handle(activated(world, first["id"], account_id))
    world.handle(methods_changed(account_id, ["microsoft", "password"], START))

    enrolled = world.invite(EMAIL, ref="PHYS201", headers=api_client(world))

    assert enrolled.status_code == 201
    body = enrolled.get_json()
    assert (body["status"], body["sign_in_methods"]) == ("enrolled", ["microsoft", "password"])
    assert shown(world, body["id"]) == ["microsoft", "password"]
    export = world.client.get("/api/v1/invitations/export", headers=api_client(world))
    header, *lines = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    exported = {line[header.index("id")]: line[header.index("sign_in_methods")] for line in lines}
    assert exported == {first["id"]: "microsoft password", body["id"]: "microsoft password"}


def test_another_institution_learns_nothing_of_the_candidate_s_ways_in(world: World) -> None:
    elsewhere = uuid.uuid4()
    theirs = world.invite(EMAIL, ref="CHEM301", headers=api_client(world, elsewhere)).get_json()
    revoked = world.client.post(
        f"/api/v1/invitations/{theirs['id']}/revoke", headers=api_client(world, elsewhere)
    )
    assert revoked.get_json()["sign_in_methods"] == []
    bystander = world.invite("bob@example.org", headers=api_client(world, elsewhere)).get_json()
    ours = world.invited(EMAIL)
    account_id = uuid.uuid4()
    world.handle(activated(world, ours["id"], account_id))
    world.handle(methods_changed(account_id, ["google", "password"], START))

    assert shown(world, ours["id"]) == ["google", "password"]
    path = f"/api/v1/invitations/{ours['id']}"
    assert world.client.get(path, headers=api_client(world, elsewhere)).status_code == 404
    listing = world.client.get("/api/v1/invitations", headers=api_client(world, elsewhere))
    assert {item["id"]: item["sign_in_methods"] for item in listing.get_json()["items"]} == {
        theirs["id"]: [],  # revoked before the candidate activated: not how they sign in
        bystander["id"]: [],
    }
