"""Sign-in on identity alone (DESIGN sections 5 and 6): the password, then the emailed code
through the gateway's internal call; the one-time code's rules; the per-address throttle,
also under parallel attempts; new terms asked at sign-in."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import requests
from identity_testkit import PASSWORD, START, IdentityWorld, identity_world
from werkzeug.test import TestResponse

from contracts.testing.serving import serving
from identity.store import sign_in_sessions
from identity.terms import PRIVACY_VERSION

WRONG = "Wrong-Horse-9-Battery"
INVALID_CREDENTIALS = {
    "error": "invalid_credentials",
    "message": "Wrong email address or password.",
}


def _other(code: str) -> str:
    """A six-digit code that is certainly not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _refused_code(answer: TestResponse) -> None:
    status, body = answer.status_code, answer.json
    assert (status, body["error"]) == (401, "invalid_code"), body


def _locked(answer: TestResponse) -> int:
    """The Retry-After of a 429 too_many_attempts."""
    status, body = answer.status_code, answer.json
    headers = answer.headers
    assert (status, body["error"]) == (429, "too_many_attempts"), body
    assert int(headers["Retry-After"]) == body["retry_after"] >= 1
    return int(headers["Retry-After"])


# -- the two steps -----------------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_answer(world: IdentityWorld) -> None:
    world.active_account("ada@example.org")
    world.invite("pending@example.org")  # an account without a password yet
    answers = [
        world.sign_in("ada@example.org", WRONG),
        world.sign_in("nobody@example.org", PASSWORD),
        world.sign_in("pending@example.org", PASSWORD),
    ]
    assert [(a.status_code, a.json) for a in answers] == [(401, INVALID_CREDENTIALS)] * 3
    assert all(e.data["purpose"] == "activation" for e in world.events("TwoFactorCodeRequested"))


def test_the_password_then_the_emailed_code_open_a_session(world: IdentityWorld) -> None:
    account_id = world.active_account("ada@example.org", language="fr")
    answer = world.sign_in("Ada@Example.ORG ", PASSWORD)
    assert answer.status_code == 200
    challenge = answer.json
    assert set(challenge) == {"challenge_id", "method", "expires_in"}
    assert (challenge["method"], challenge["expires_in"]) == ("email", 600)
    requested = world.events("TwoFactorCodeRequested")[-1]
    assert requested.data["purpose"] == "sign_in"
    assert requested.data["language"] == "fr"
    assert requested.data["expires_at"] == START + timedelta(minutes=10)
    code = requested.data["code"]

    # the internal call is the gateway's alone
    assert (
        world.client.post(
            "/internal/v1/sessions", json={"challenge_id": challenge["challenge_id"], "code": code}
        ).status_code
        == 401
    )
    as_candidate = world.client.post(
        "/internal/v1/sessions",
        json={"challenge_id": challenge["challenge_id"], "code": code},
        headers=world.tokens.header(roles=("candidate",)),
    )
    assert as_candidate.status_code == 403

    opened = world.enter_code(challenge["challenge_id"], code)
    assert opened.status_code == 201
    body = opened.json
    assert set(body) == {
        "session_id",
        "account_id",
        "refresh_token",
        "session_expires_at",
        "roles",
        "amr",
        "language",
    }
    assert body["account_id"] == str(account_id)
    assert (body["roles"], body["amr"], body["language"]) == (["candidate"], ["pwd", "otp"], "fr")
    assert datetime.fromisoformat(body["session_expires_at"]) == START + timedelta(hours=12)
    assert len(body["refresh_token"]) >= 43
    with world.engine.connect() as db:
        (row,) = db.execute(sign_in_sessions.select()).all()
    assert (str(row.id), row.account_id, row.expires_at) == (
        body["session_id"],
        account_id,
        START + timedelta(hours=12),
    )
    assert world.me(world.signed_in_from(body)).status_code == 200


def test_signing_in_twice_at_once_sends_one_code(world: IdentityWorld) -> None:
    world.active_account()
    first = world.challenge()
    world.clock.advance(seconds=29)
    assert world.challenge() == first
    assert len(world.codes("ada@example.org", "sign_in")) == 1
    world.clock.advance(seconds=1)
    second = world.challenge()
    old, new = world.codes("ada@example.org", "sign_in")
    assert second != first
    _refused_code(world.enter_code(first, old))  # the new sign-in replaced it
    assert world.enter_code(second, new).status_code == 201


def test_a_code_expires_after_10_minutes(world: IdentityWorld) -> None:
    world.active_account()
    challenge_id = world.challenge()
    world.clock.advance(minutes=10, seconds=1)
    _refused_code(world.enter_code(challenge_id, world.last_code("ada@example.org", "sign_in")))

    challenge_id = world.challenge()  # more than 30 s later: a new code
    world.clock.advance(minutes=9, seconds=59)
    answer = world.enter_code(challenge_id, world.last_code("ada@example.org", "sign_in"))
    assert answer.status_code == 201


def test_a_code_works_once(world: IdentityWorld) -> None:
    world.active_account()
    challenge_id = world.challenge()
    code = world.last_code("ada@example.org", "sign_in")
    assert world.enter_code(challenge_id, code).status_code == 201
    _refused_code(world.enter_code(challenge_id, code))


def test_five_wrong_codes_and_the_right_one_is_refused(world: IdentityWorld) -> None:
    world.active_account()
    challenge_id = world.challenge()
    code = world.last_code("ada@example.org", "sign_in")
    for _ in range(5):
        _refused_code(world.enter_code(challenge_id, _other(code)))
    # the address is locked for a moment, and once it is not, the challenge is dead
    world.clock.advance(seconds=_locked(world.enter_code(challenge_id, code)))
    _refused_code(world.enter_code(challenge_id, code))
    assert world.client.get("/api/v1/me").status_code == 401


def test_signing_in_again_after_five_wrong_codes_sends_a_new_one(world: IdentityWorld) -> None:
    world.active_account()
    dead = world.challenge()
    code = world.last_code("ada@example.org", "sign_in")
    for _ in range(5):
        _refused_code(world.enter_code(dead, _other(code)))
    world.clock.advance(seconds=_locked(world.enter_code(dead, code)))
    fresh = world.challenge()
    assert fresh != dead
    assert world.enter_code(fresh, world.last_code("ada@example.org", "sign_in")).status_code == 201


def test_a_resent_code_replaces_the_previous_one(world: IdentityWorld) -> None:
    world.active_account()
    first = world.challenge()
    old = world.last_code("ada@example.org", "sign_in")
    resend = "/api/v1/sessions/two-factor/resend"

    too_soon = world.client.post(resend, json={"challenge_id": first})
    assert too_soon.status_code == 429 and too_soon.json["error"] == "resend_too_soon"
    assert too_soon.headers["Retry-After"] == "30"
    world.clock.advance(seconds=30)
    resent = world.client.post(resend, json={"challenge_id": first})
    assert resent.status_code == 202
    assert resent.json["method"] == "email" and resent.json["expires_in"] == 600
    second = resent.json["challenge_id"]
    assert second != first
    new = world.last_code("ada@example.org", "sign_in")
    assert world.codes("ada@example.org", "sign_in") == [old, new]

    _refused_code(world.enter_code(first, old))
    _refused_code(world.enter_code(second, old))
    _refused_code(world.enter_code(first, new))
    # the superseded challenge cannot be resent either
    world.clock.advance(seconds=30)
    _refused_code(world.client.post(resend, json={"challenge_id": first}))
    assert world.enter_code(second, new).status_code == 201


def test_a_code_of_another_challenge_is_refused(world: IdentityWorld) -> None:
    world.active_account("ada@example.org")
    world.active_account("grace@example.org")
    ada = world.challenge("ada@example.org")
    ada_code = world.last_code("ada@example.org", "sign_in")
    grace = world.challenge("grace@example.org")
    grace_code = world.last_code("grace@example.org", "sign_in")
    if ada_code != grace_code:  # one chance in a million that both drew the same digits
        _refused_code(world.enter_code(grace, ada_code))
        _refused_code(world.enter_code(ada, grace_code))
    opened = world.enter_code(grace, grace_code)
    assert opened.status_code == 201
    assert opened.json["account_id"] == str(world.account("grace@example.org").id)
    assert world.enter_code(ada, ada_code).json["account_id"] == str(
        world.account("ada@example.org").id
    )


def test_an_unknown_challenge_is_refused(world: IdentityWorld) -> None:
    _refused_code(world.enter_code("8d7f1c39-4c8e-4d36-9a56-1f3d0f7c2b11", "123456"))
    malformed = world.enter_code("not-a-uuid", "123456")
    assert malformed.status_code == 422


# -- the throttle ------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_address_even_for_the_right_one(
    world: IdentityWorld,
) -> None:
    world.active_account()
    for _ in range(5):
        assert world.sign_in("ada@example.org", WRONG).json == INVALID_CREDENTIALS
    locked = world.sign_in("ada@example.org", PASSWORD)
    assert _locked(locked) == 2
    assert locked.json["message"] == "Too many failed attempts. Try again in 2 seconds."
    fr = world.client.post(
        "/api/v1/sessions",
        json={"email": "ada@example.org", "password": PASSWORD},
        headers={"Accept-Language": "fr"},
    )
    assert fr.json["message"] == "Trop de tentatives échouées. Réessayez dans 2 secondes."
    assert world.codes("ada@example.org", "sign_in") == []

    world.clock.advance(seconds=2)
    world.signed_in()
    # a complete sign-in starts the count again: five more free failures
    for _ in range(5):
        assert world.sign_in("ada@example.org", WRONG).status_code == 401
    assert _locked(world.sign_in("ada@example.org", PASSWORD)) == 2


def _lock_delays(world: IdentityWorld, email: str, rounds: int) -> list[tuple[int, object]]:
    """Fail past the free failures, then wait out each lock and fail once more; every
    answer, and the Retry-After of each lock."""
    seen: list[tuple[int, object]] = []
    for _ in range(5):
        answer = world.sign_in(email, WRONG)
        seen.append((answer.status_code, answer.json))
    for _ in range(rounds):
        wait = _locked(world.sign_in(email, WRONG))
        seen.append((429, wait))
        world.clock.advance(seconds=wait - 1)
        assert _locked(world.sign_in(email, WRONG)) == 1  # still locked a second before
        world.clock.advance(seconds=1)
        answer = world.sign_in(email, WRONG)
        seen.append((answer.status_code, answer.json))
    return seen


def test_lock_delays_grow_and_never_exceed_15_minutes(world: IdentityWorld) -> None:
    world.active_account()
    seen = _lock_delays(world, "ada@example.org", rounds=12)
    delays = [wait for status, wait in seen if status == 429]
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert max(delays) == 15 * 60
    # never a permanent lock: after the longest wait the right password works
    world.clock.advance(seconds=_locked(world.sign_in("ada@example.org", PASSWORD)))
    assert world.sign_in("ada@example.org", PASSWORD).status_code == 200


def test_an_unknown_address_is_locked_the_same_way(world: IdentityWorld) -> None:
    world.active_account("ada@example.org")
    known = _lock_delays(world, "ada@example.org", rounds=3)
    world.clock.advance(hours=1)
    unknown = _lock_delays(world, "nobody@example.org", rounds=3)
    assert unknown == known
    assert [status for status, _ in known] == [401] * 5 + [429, 401] * 3


def test_parallel_wrong_passwords_share_the_five_free_failures(
    postgres_url: str, tmp_path: Path
) -> None:
    """Fifty wrong passwords at once from fifty threads against a real server on PostgreSQL:
    the failures are counted before the password is checked, so at most five are checked."""
    with identity_world(postgres_url, tmp_path) as world:
        world.active_account()
        with serving(world.app) as base:
            url = f"{base}/api/v1/sessions"
            start = threading.Barrier(50)
            statuses: list[int] = []

            def attempt() -> None:
                with requests.Session() as http:
                    start.wait()
                    answer = http.post(
                        url, json={"email": "ada@example.org", "password": WRONG}, timeout=60
                    )
                    statuses.append(answer.status_code)

            threads = [threading.Thread(target=attempt) for _ in range(50)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=90)
        counted = Counter(statuses)
        assert sum(counted.values()) == 50 and set(counted) <= {401, 429}
        assert counted[401] <= 5  # never more checked than the free failures
        # and no attempt counted twice: with the clock still, exactly five were checked
        assert counted == Counter({401: 5, 429: 45})
        assert _locked(world.sign_in("ada@example.org", PASSWORD)) >= 1


# -- terms -------------------------------------------------------------------------------------


def test_new_terms_are_asked_at_the_next_sign_in(world: IdentityWorld) -> None:
    world.active_account()
    republished = world.again(TERMS_VERSION="2027-01-01")
    current = {"terms_version": "2027-01-01", "privacy_version": PRIVACY_VERSION}

    wrong = republished.sign_in("ada@example.org", WRONG)
    assert wrong.json == INVALID_CREDENTIALS  # terms are not said before the password
    asked = republished.sign_in("ada@example.org", PASSWORD)
    assert asked.status_code == 409
    assert asked.json["error"] == "terms_outdated"
    assert {k: asked.json[k] for k in current} == current
    old = republished.sign_in(
        "ada@example.org", PASSWORD, terms_version="2026-09-01", privacy_version=PRIVACY_VERSION
    )
    assert old.status_code == 409 and old.json["error"] == "terms_outdated"
    assert world.codes("ada@example.org", "sign_in") == []

    accepted = republished.sign_in("ada@example.org", PASSWORD, **current)
    assert accepted.status_code == 200 and set(accepted.json) == {
        "challenge_id",
        "method",
        "expires_in",
    }
    account = world.account("ada@example.org")
    assert (account.terms_version, account.privacy_version) == ("2027-01-01", PRIVACY_VERSION)
    assert account.terms_accepted_at == START
    world.clock.advance(seconds=30)
    assert republished.sign_in("ada@example.org", PASSWORD).status_code == 200
