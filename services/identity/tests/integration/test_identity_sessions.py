"""Sessions after sign-in (DESIGN sections 5 and 6): refresh tokens rotated on use and a
reused one ending the session (two racing requests of one browser excepted), 12 hours at
most, never held back by a lock on the address; sign-out; the profile
(read, language, password change ending the other sessions) and who may read it."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from identity_testkit import NEW_PASSWORD, PASSWORD, START, IdentityWorld, identity_world
from werkzeug.test import TestResponse

from contracts.runtime.settings import ConfigurationError
from contracts.testing.serving import serving
from identity.store import sign_in_sessions
from identity.terms import PRIVACY_VERSION, TERMS_VERSION

EMAIL = "ada@example.org"


def _invalid_grant(answer: TestResponse) -> None:
    status, body = answer.status_code, answer.json
    assert (status, body["error"]) == (401, "invalid_grant"), body
    assert body["message"] == "Your session has ended. Sign in again."


def _revoked_reason(world: IdentityWorld, session_id: uuid.UUID) -> str | None:
    with world.engine.connect() as db:
        reason: str | None = db.scalar(
            sign_in_sessions.select()
            .with_only_columns(sign_in_sessions.c.revoked_reason)
            .where(sign_in_sessions.c.id == session_id)
        )
    return reason


# -- refresh -----------------------------------------------------------------------------------


def test_a_refresh_rotates_the_refresh_token(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL)
    signed = world.signed_in()
    world.clock.advance(minutes=14)
    answer = world.refresh(signed.refresh_token)
    assert answer.status_code == 200
    body = answer.json
    assert body["refresh_token"] != signed.refresh_token and len(body["refresh_token"]) >= 43
    assert body["session_id"] == str(signed.session_id)
    assert body["account_id"] == str(account_id)
    assert (body["roles"], body["amr"], body["language"]) == (["candidate"], ["pwd", "otp"], "en")
    # the session's end does not move
    assert datetime.fromisoformat(body["session_expires_at"]) == START + timedelta(hours=12)
    again = world.refresh(body["refresh_token"])
    assert again.status_code == 200
    assert world.refresh("not-a-refresh-token").status_code == 401
    candidate = world.client.post(
        "/internal/v1/sessions/refresh",
        json={"refresh_token": again.json["refresh_token"]},
        headers=world.candidate(signed),
    )
    assert candidate.status_code == 403


def test_a_reused_refresh_token_ends_the_whole_session(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    signed = world.signed_in()
    rotated = world.refresh(signed.refresh_token).json["refresh_token"]
    world.clock.advance(seconds=10, milliseconds=1)  # past the leeway

    _invalid_grant(world.refresh(signed.refresh_token))  # stolen and replayed
    _invalid_grant(world.refresh(rotated))  # the family is revoked
    assert _revoked_reason(world, signed.session_id) == "refresh_token_reused"
    assert world.me(signed).status_code == 401


def test_a_session_ends_12_hours_after_sign_in(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    signed = world.signed_in()
    token = signed.refresh_token
    for _ in range(3):
        world.clock.advance(hours=3, minutes=59, seconds=59)
        answer = world.refresh(token)
        assert answer.status_code == 200
        token = answer.json["refresh_token"]
    assert world.me(signed).status_code == 200
    world.clock.advance(seconds=3)  # 12 h after sign-in
    _invalid_grant(world.refresh(token))
    assert world.me(signed).status_code == 401


def test_the_same_refresh_token_twice_within_the_leeway_keeps_the_session(
    world: IdentityWorld,
) -> None:
    """Two requests of one browser at refresh time (the exam page sends two events at once
    on a tab switch) both present the token: both get a working session."""
    world.active_account(EMAIL)
    signed = world.signed_in()
    first = world.refresh(signed.refresh_token)
    world.clock.advance(seconds=10)  # the leeway, its end included
    second = world.refresh(signed.refresh_token)
    assert (first.status_code, second.status_code) == (200, 200), second.json
    assert second.json["session_id"] == str(signed.session_id)
    assert first.json["refresh_token"] != second.json["refresh_token"]
    assert _revoked_reason(world, signed.session_id) is None
    assert world.me(signed).status_code == 200
    # each browser request's new token goes on working
    assert world.refresh(first.json["refresh_token"]).status_code == 200
    assert world.refresh(second.json["refresh_token"]).status_code == 200


def test_after_the_leeway_the_same_refresh_token_ends_the_session(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    signed = world.signed_in()
    rotated = world.refresh(signed.refresh_token).json["refresh_token"]
    world.clock.advance(seconds=11)
    _invalid_grant(world.refresh(signed.refresh_token))
    _invalid_grant(world.refresh(rotated))
    assert _revoked_reason(world, signed.session_id) == "refresh_token_reused"


def test_the_leeway_is_a_setting(world: IdentityWorld) -> None:
    strict = world.again(REFRESH_REUSE_LEEWAY_S="0")
    strict.active_account(EMAIL)
    signed = strict.signed_in()
    assert strict.refresh(signed.refresh_token).status_code == 200
    _invalid_grant(strict.refresh(signed.refresh_token))
    with pytest.raises(ConfigurationError, match="REFRESH_REUSE_LEEWAY_S"):
        world.again(REFRESH_REUSE_LEEWAY_S="ten")


def test_parallel_refreshes_of_one_token_both_keep_the_session(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two threads present one refresh token at the same moment to a real server on
    PostgreSQL: both get tokens, and the session stands."""
    with identity_world(postgres_url, tmp_path) as world:
        world.active_account(EMAIL)
        signed = world.signed_in()
        with serving(world.app) as base:
            url = f"{base}/internal/v1/sessions/refresh"
            barrier = threading.Barrier(2)
            answers: list[requests.Response] = []

            def refresh() -> None:
                with requests.Session() as http:
                    barrier.wait()
                    answers.append(
                        http.post(
                            url,
                            json={"refresh_token": signed.refresh_token},
                            headers=world.gateway(),
                            timeout=60,
                        )
                    )

            threads = [threading.Thread(target=refresh) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=90)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert _revoked_reason(world, signed.session_id) is None
        for answer in answers:
            assert world.refresh(answer.json()["refresh_token"]).status_code == 200


def test_a_locked_address_does_not_hold_back_a_refresh(world: IdentityWorld) -> None:
    """Anyone who knows a candidate's address can lock it by typing wrong passwords; the
    candidate's session must go on (an exam in progress), while new sign-ins wait."""
    world.active_account(EMAIL)
    signed = world.signed_in()
    for _ in range(5):
        assert world.sign_in(EMAIL, "Wrong-Horse-9-Battery").status_code == 401
    assert world.sign_in(EMAIL, PASSWORD).status_code == 429  # new sign-ins are locked
    token = signed.refresh_token
    for _ in range(3):
        world.clock.advance(minutes=14)
        for _ in range(5):
            world.sign_in(EMAIL, "Wrong-Horse-9-Battery")  # kept locked all along
        answer = world.refresh(token)
        assert answer.status_code == 200, answer.json
        token = answer.json["refresh_token"]
    assert world.me(signed).status_code == 200
    assert _revoked_reason(world, signed.session_id) is None


# -- sign-out ----------------------------------------------------------------------------------


def test_signing_out_ends_the_session_only(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    leaving = world.signed_in()
    world.clock.advance(seconds=30)
    staying = world.signed_in()

    assert world.client.delete("/api/v1/sessions").status_code == 401
    answer = world.client.delete("/api/v1/sessions", headers=world.candidate(leaving))
    assert answer.status_code == 204
    assert _revoked_reason(world, leaving.session_id) == "signed_out"
    _invalid_grant(world.refresh(leaving.refresh_token))
    ended = world.me(leaving)
    assert ended.status_code == 401 and ended.json["error"] == "invalid_token"
    assert world.client.delete(
        "/api/v1/sessions", headers=world.candidate(leaving)
    ).status_code == (401)

    assert world.me(staying).status_code == 200
    assert world.refresh(staying.refresh_token).status_code == 200


# -- the profile -------------------------------------------------------------------------------


def test_me_shows_the_account(world: IdentityWorld) -> None:
    account_id = world.active_account(EMAIL, language="fr")
    answer = world.me(world.signed_in())
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json == {
        "id": str(account_id),
        "email": EMAIL,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "language": "fr",
        "status": "active",
        "two_factor": "email",
        "terms_version": TERMS_VERSION,
        "privacy_version": PRIVACY_VERSION,
        "terms_accepted_at": START.isoformat(),
        "activated_at": START.isoformat(),
        "password_changed_at": START.isoformat(),
    }


def test_me_needs_a_live_session_of_a_candidate(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    world.active_account("grace@example.org")
    signed = world.signed_in()
    grace = world.signed_in("grace@example.org")

    def me(headers: dict[str, str]) -> int:
        return world.client.get("/api/v1/me", headers=headers).status_code

    assert me({}) == 401
    assert me({"Authorization": "Bearer not-a-jwt"}) == 401
    assert me(world.candidate(signed, roles=("coordinator",))) == 403
    assert me(world.candidate(signed, roles=("gateway",))) == 403
    assert me(world.tokens.header(roles=("candidate",), subject=str(signed.account_id))) == 401
    # a session of someone else, or one that never existed
    crossed = world.tokens.header(
        roles=("candidate",),
        subject=str(signed.account_id),
        claims={"sid": str(grace.session_id)},
    )
    assert me(crossed) == 401
    invented = world.tokens.header(
        roles=("candidate",), subject=str(signed.account_id), claims={"sid": str(uuid.uuid4())}
    )
    assert me(invented) == 401
    assert me(world.candidate(signed)) == 200


def test_the_language_can_be_changed(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    signed = world.signed_in()
    answer = world.client.patch(
        "/api/v1/me", json={"language": "fr"}, headers=world.candidate(signed)
    )
    assert answer.status_code == 200 and answer.json["language"] == "fr"
    assert world.account(EMAIL).language == "fr"
    refused = world.client.patch(
        "/api/v1/me", json={"language": "de"}, headers=world.candidate(signed)
    )
    assert refused.status_code == 422
    assert world.client.patch("/api/v1/me", json={"language": "en"}).status_code == 401
    assert world.account(EMAIL).language == "fr"
    # the next code is emailed in French
    world.clock.advance(seconds=30)
    world.challenge()
    assert world.events("TwoFactorCodeRequested")[-1].data["language"] == "fr"


def test_changing_the_password_ends_the_other_sessions(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    other = world.signed_in()
    world.clock.advance(seconds=30)
    current = world.signed_in()

    def change(current_password: str, new_password: str) -> TestResponse:
        return world.client.post(
            "/api/v1/me/password",
            json={"current_password": current_password, "new_password": new_password},
            headers=world.candidate(current),
        )

    wrong = change("Wrong-Horse-9-Battery", NEW_PASSWORD)
    assert wrong.status_code == 400
    assert wrong.json["error"] == "current_password_incorrect"
    weak = change(PASSWORD, "password")
    assert weak.status_code == 422
    assert weak.json["error"] == "password_policy"
    assert [v["rule"] for v in weak.json["violations"]] == ["uppercase", "digit", "common"]
    assert world.events("PasswordChanged") == []

    world.clock.advance(minutes=1)
    changed = change(PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200
    assert changed.json["status"] == "changed"
    (event,) = world.events("PasswordChanged")
    assert event.data["reason"] == "change"
    assert event.data["account_id"] == current.account_id
    assert event.data["changed_at"] == START + timedelta(seconds=30, minutes=1)

    assert world.me(current).status_code == 200
    assert world.refresh(current.refresh_token).status_code == 200
    assert world.me(other).status_code == 401
    _invalid_grant(world.refresh(other.refresh_token))
    assert _revoked_reason(world, other.session_id) == "password_change"

    assert world.sign_in(EMAIL, PASSWORD).status_code == 401
    assert world.sign_in(EMAIL, NEW_PASSWORD).status_code == 200
