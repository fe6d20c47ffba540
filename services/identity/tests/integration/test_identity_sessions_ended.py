"""Every way a session ends before its 12 hours is announced as SessionsEnded, in the same
transaction, so that the gateway refuses the session's access tokens within seconds (DESIGN
section 5); and the gateway can read the sessions ended lately, to catch up after a restart."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from identity_testkit import NEW_PASSWORD, PASSWORD, IdentityWorld, SignedIn

EMAIL = "ada@example.org"
ENDED = "/internal/v1/sessions/ended"


def announced(world: IdentityWorld) -> list[dict[str, Any]]:
    """The SessionsEnded in the outbox, as the gateway reads them."""
    return [event.data for event in world.events("SessionsEnded")]


def signed_in_twice(world: IdentityWorld) -> tuple[SignedIn, SignedIn]:
    first = world.signed_in()
    world.clock.advance(seconds=30)  # a new code no sooner than 30 s after the last
    return first, world.signed_in()


def change_password(world: IdentityWorld, signed: SignedIn, new: str) -> int:
    return world.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=world.candidate(signed),
    ).status_code


def test_signing_out_announces_the_session_it_ended(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    leaving, _staying = signed_in_twice(world)
    world.clock.advance(minutes=3)
    out = world.client.delete("/api/v1/sessions", headers=world.candidate(leaving))
    assert out.status_code == 204
    assert announced(world) == [
        {
            "account_id": account_id,
            "session_ids": [leaving.session_id],
            "reason": "signed_out",
            "ended_at": world.clock(),
        }
    ]


def test_a_password_change_announces_the_other_sessions(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    first, second = signed_in_twice(world)
    world.clock.advance(seconds=30)
    current = world.signed_in()
    assert change_password(world, current, NEW_PASSWORD) == 200
    (ended,) = announced(world)
    assert ended["account_id"] == account_id and ended["reason"] == "password_change"
    assert sorted(ended["session_ids"]) == sorted([first.session_id, second.session_id])
    assert ended["ended_at"] == world.clock()


def test_a_session_past_its_12_hours_is_not_announced(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    world.signed_in()
    world.clock.advance(hours=12, seconds=1)  # no token of it is valid any more
    current = world.signed_in()
    assert change_password(world, current, NEW_PASSWORD) == 200
    assert announced(world) == []


def test_a_reset_announces_every_session(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    first, second = signed_in_twice(world)
    world.clock.advance(minutes=1)
    assert world.client.post("/api/v1/password/forgot", json={"email": EMAIL}).status_code == 202
    world.deliver_own_events()  # identity's worker sends the link
    token = world.reset_tokens(EMAIL)[-1]
    reset = world.client.post(
        "/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    (ended,) = announced(world)
    assert ended["account_id"] == account_id and ended["reason"] == "password_reset"
    assert sorted(ended["session_ids"]) == sorted([first.session_id, second.session_id])


def test_a_replayed_refresh_token_announces_its_session(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    signed = world.signed_in()
    assert world.refresh(signed.refresh_token).status_code == 200
    world.clock.advance(seconds=10, milliseconds=1)  # past the leeway of one racing browser
    assert world.refresh(signed.refresh_token).status_code == 401
    assert announced(world) == [
        {
            "account_id": account_id,
            "session_ids": [signed.session_id],
            "reason": "refresh_token_reused",
            "ended_at": world.clock(),
        }
    ]
    # the family is already ended: nothing more to announce
    assert world.refresh(signed.refresh_token).status_code == 401
    assert len(announced(world)) == 1


def test_the_gateway_reads_the_sessions_ended_lately(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    early, late = signed_in_twice(world)
    world.client.delete("/api/v1/sessions", headers=world.candidate(early))
    early_end = world.clock()
    world.clock.advance(minutes=20)
    world.client.delete("/api/v1/sessions", headers=world.candidate(late))
    late_end = world.clock()
    world.clock.advance(minutes=1)

    def ended(within: timedelta, headers: dict[str, str] | None = None) -> Any:
        return world.client.get(
            ENDED,
            query_string={"within_seconds": int(within.total_seconds())},
            headers=world.gateway() if headers is None else headers,
        )

    recent = ended(timedelta(minutes=16))
    assert recent.status_code == 200
    assert recent.json == {
        "sessions": [{"session_id": str(late.session_id), "ended_at": late_end.isoformat()}]
    }
    both = ended(timedelta(hours=1)).json["sessions"]
    assert {(s["session_id"], s["ended_at"]) for s in both} == {
        (str(early.session_id), early_end.isoformat()),
        (str(late.session_id), late_end.isoformat()),
    }
    assert ended(timedelta(minutes=16), headers={}).status_code == 401
    assert ended(timedelta(minutes=16), headers=world.candidate(late)).status_code == 403
    assert ended(timedelta(0)).status_code == 422
    assert ended(timedelta(days=30)).status_code == 422
    assert uuid.UUID(recent.json["sessions"][0]["session_id"]) == late.session_id
