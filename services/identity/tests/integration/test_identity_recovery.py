"""Forgot and reset password (DESIGN section 5): the same answer whether or not the address
has an account, a link built from PUBLIC_URL only, 60 minutes and single use, the policy
applied, every session ended, a notice sent, nobody signed in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from identity_testkit import (
    NEW_PASSWORD,
    PASSWORD,
    PUBLIC_URL,
    START,
    IdentityWorld,
)
from sqlalchemy import event
from werkzeug.test import TestResponse

EMAIL = "ada@example.org"


def _forgot(world: IdentityWorld, email: str, **headers: str) -> TestResponse:
    answer = world.client.post("/api/v1/password/forgot", json={"email": email}, headers=headers)
    world.deliver_own_events()
    return answer


def _statements_of_forgot(world: IdentityWorld, email: str) -> list[str]:
    """The SQL statements the request itself runs, bound values left out."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(world.engine, "before_cursor_execute", record)
    try:
        answer = world.client.post("/api/v1/password/forgot", json={"email": email})
    finally:
        event.remove(world.engine, "before_cursor_execute", record)
    assert answer.status_code == 202
    return seen


def test_forgot_does_the_same_work_for_known_and_unknown_addresses(
    world: IdentityWorld,
) -> None:
    """Neither the answer, nor the statements run (and so the writes and their time) tell
    whether an address has an account: the link is sent by identity's worker."""
    world.active_account(EMAIL)
    world.invite("pending@example.org")
    known = _statements_of_forgot(world, EMAIL)
    unknown = _statements_of_forgot(world, "nobody@example.org")
    pending = _statements_of_forgot(world, "pending@example.org")
    assert known == unknown == pending
    writes = [s for s in known if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert len(writes) == 1
    # and the known address gets its link once the worker has handled the request
    assert world.events("PasswordResetRequested") == []
    world.deliver_own_events()
    (requested,) = world.events("PasswordResetRequested")
    assert requested.data["email"] == EMAIL


def _reset(world: IdentityWorld, token: str, password: str) -> TestResponse:
    return world.client.post("/api/v1/password/reset", json={"token": token, "password": password})


def _token(world: IdentityWorld, email: str = EMAIL) -> str:
    assert _forgot(world, email).status_code == 202
    return world.reset_tokens(email)[-1]


def _invalid_link(answer: TestResponse) -> None:
    assert (answer.status_code, answer.json["error"]) == (400, "reset_token_invalid"), answer.json


def test_forgot_answers_the_same_for_known_and_unknown_addresses(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    world.invite("pending@example.org")
    host = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    answers = [
        _forgot(world, "Ada@Example.org", **host),
        _forgot(world, "nobody@example.org", **host),
        _forgot(world, "pending@example.org", **host),
    ]
    assert [a.status_code for a in answers] == [202] * 3
    assert answers[0].json == answers[1].json == answers[2].json
    assert answers[0].json["status"] == "accepted"

    (requested,) = world.events("PasswordResetRequested")
    assert requested.data["email"] == EMAIL
    assert requested.data["account_id"] == world.account(EMAIL).id
    assert requested.data["expires_at"] == START + timedelta(minutes=60)
    url = requested.data["reset_url"]
    assert url.startswith(f"{PUBLIC_URL}/connexion/reset-password?token=")
    assert "evil.example" not in url
    (token,) = world.reset_tokens(EMAIL)
    assert len(token) >= 43  # at least 256 bits


def test_a_weak_password_is_refused_and_the_link_still_works(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    token = _token(world)
    weak = _reset(world, token, "password")
    assert weak.status_code == 422 and weak.json["error"] == "password_policy"
    assert [v["rule"] for v in weak.json["violations"]] == ["uppercase", "digit", "common"]
    assert world.events("PasswordChanged") == []
    assert _reset(world, token, NEW_PASSWORD).status_code == 200


def test_a_reset_changes_the_password_once(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    token = _token(world)
    world.clock.advance(minutes=5)
    answer = _reset(world, token, NEW_PASSWORD)
    assert answer.status_code == 200
    assert answer.json["status"] == "changed"
    assert set(answer.json) == {"status", "message"}  # nobody is signed in

    (changed,) = world.events("PasswordChanged")
    assert changed.data["reason"] == "reset"
    assert changed.data["account_id"] == account_id
    assert changed.data["changed_at"] == START + timedelta(minutes=5)
    assert world.account(EMAIL).password_changed_at == START + timedelta(minutes=5)

    assert world.sign_in(EMAIL, PASSWORD).status_code == 401
    assert world.sign_in(EMAIL, NEW_PASSWORD).status_code == 200
    _invalid_link(_reset(world, token, "Another-Horse-7-Saddle"))
    _invalid_link(_reset(world, "not-a-token", "Another-Horse-7-Saddle"))
    assert len(world.events("PasswordChanged")) == 1


def test_a_reset_link_expires_after_60_minutes(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    token = _token(world)
    world.clock.advance(minutes=59, seconds=59)
    assert _reset(world, token, "password").status_code == 422  # the link still opens
    world.clock.advance(seconds=1)
    _invalid_link(_reset(world, token, NEW_PASSWORD))
    assert world.sign_in(EMAIL, PASSWORD).status_code == 200


def test_a_reset_ends_every_session(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    first = world.signed_in()
    world.clock.advance(seconds=30)
    second = world.signed_in()
    assert _reset(world, _token(world), NEW_PASSWORD).status_code == 200
    for signed in (first, second):
        refused = world.refresh(signed.refresh_token)
        assert (refused.status_code, refused.json["error"]) == (401, "invalid_grant")
        assert world.me(signed).status_code == 401


def test_a_reset_unlocks_the_address(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    token = _token(world)
    for _ in range(6):
        world.sign_in(EMAIL, "Wrong-Horse-9-Battery")
    assert world.sign_in(EMAIL, PASSWORD).status_code == 429
    assert _reset(world, token, NEW_PASSWORD).status_code == 200
    assert world.sign_in(EMAIL, NEW_PASSWORD).status_code == 200


def test_one_link_a_minute_and_a_used_link_kills_the_others(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    first = _token(world)
    world.clock.advance(seconds=59)
    assert _forgot(world, EMAIL).status_code == 202
    assert world.reset_tokens(EMAIL) == [first]  # no second email within the minute
    world.clock.advance(seconds=2)
    second = _token(world)
    assert second != first
    assert _reset(world, second, NEW_PASSWORD).status_code == 200
    _invalid_link(_reset(world, first, "Another-Horse-7-Saddle"))


@pytest.mark.parametrize("blank", [" ", "\r", "\t\n"])
def test_forgot_refuses_an_address_that_is_only_blanks(world: IdentityWorld, blank: str) -> None:
    answer = world.client.post("/api/v1/password/forgot", json={"email": blank})
    assert (answer.status_code, answer.json["error"]) == (422, "validation_error")
    assert world.events("PasswordResetAsked") == []
