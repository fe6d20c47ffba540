"""Guessing the emailed code (DESIGN section 5): whoever knows a password must not get fresh
guesses at the six-digit code with every new challenge. Code failures count for the account
across challenges; a right password forgives none of them; only a complete sign-in does."""

from __future__ import annotations

import pytest
from identity_testkit import PASSWORD, IdentityWorld
from werkzeug.test import TestResponse

EMAIL = "ada@example.org"
ROUNDS = 40
#: the review's bound: the lock must answer within this many wrong codes
WRONG_CODES_BOUND = 25


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _is_lock(answer: TestResponse) -> bool:
    body = answer.json or {}
    return answer.status_code == 429 and body.get("error") == "too_many_attempts"


def test_right_password_and_wrong_code_rounds_meet_the_lock(world: IdentityWorld) -> None:
    """Each round waits out the resend cooldown (31 s), so every round has a new challenge
    with five tries of its own; the failures must still add up across rounds."""
    world.active_account(EMAIL)
    wrong_codes = 0
    for _ in range(ROUNDS):
        world.clock.advance(seconds=31)
        started = world.sign_in(EMAIL, PASSWORD)
        if _is_lock(started):
            break
        assert started.status_code == 200, started.json
        code = world.last_code(EMAIL, "sign_in")
        entered = world.enter_code(started.json["challenge_id"], _other(code))
        if _is_lock(entered):
            break
        assert entered.json["error"] == "invalid_code"
        wrong_codes += 1
    else:
        pytest.fail(f"{ROUNDS} rounds of right password and wrong code never met the lock")
    assert wrong_codes <= WRONG_CODES_BOUND


def test_activation_rounds_of_right_password_and_wrong_code_meet_the_lock(
    world: IdentityWorld,
) -> None:
    """A half-done activation resumed by signing in with the password already chosen: the
    two-factor confirm's wrong codes add up across challenges as well."""
    invitation = world.invite(EMAIL)
    token = world.activation_token(invitation)
    for name, body in (
        ("password", {"password": PASSWORD}),
        ("language", {"language": "en"}),
        ("terms", world.terms()),
    ):
        assert world.step(token, name, body).status_code == 200
    wrong_codes = 0
    for _ in range(ROUNDS):
        world.clock.advance(seconds=31)
        resumed = world.sign_in(EMAIL, PASSWORD)
        if _is_lock(resumed):
            break
        assert resumed.json["error"] == "activation_incomplete", resumed.json
        token = resumed.json["activation_token"]
        sent = world.step(token, "two-factor", {"method": "email"})
        assert sent.status_code == 202, sent.json
        code = world.last_code(EMAIL, "activation")
        confirmed = world.step(token, "two-factor/confirm", {"code": _other(code)})
        if _is_lock(confirmed):
            break
        assert confirmed.json["error"] == "invalid_code", confirmed.json
        wrong_codes += 1
    else:
        pytest.fail(f"{ROUNDS} rounds of right password and wrong code never met the lock")
    assert wrong_codes <= WRONG_CODES_BOUND
    assert world.account(EMAIL).status != "active"


def test_a_right_password_forgives_no_earlier_wrong_code(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    for _ in range(4):
        world.clock.advance(seconds=31)
        challenge_id = world.challenge()
        code = world.last_code(EMAIL, "sign_in")
        assert world.enter_code(challenge_id, _other(code)).status_code == 401
    world.clock.advance(seconds=31)
    challenge_id = world.challenge()  # the right password: its own attempt is no failure
    code = world.last_code(EMAIL, "sign_in")
    assert world.enter_code(challenge_id, _other(code)).status_code == 401  # the fifth
    locked = world.sign_in(EMAIL, PASSWORD)
    assert _is_lock(locked) and locked.headers["Retry-After"] == "2"


def test_a_complete_sign_in_forgives_the_failures(world: IdentityWorld) -> None:
    world.active_account(EMAIL)
    for _ in range(4):
        world.clock.advance(seconds=31)
        challenge_id = world.challenge()
        code = world.last_code(EMAIL, "sign_in")
        assert world.enter_code(challenge_id, _other(code)).status_code == 401
    world.clock.advance(seconds=31)
    world.signed_in()
    # five free failures again
    for _ in range(5):
        assert world.sign_in(EMAIL, "Wrong-Horse-9-Battery").status_code == 401
    assert _is_lock(world.sign_in(EMAIL, PASSWORD))


def test_a_right_password_does_not_lift_a_lock_another_attempt_set(world: IdentityWorld) -> None:
    """Five wrong codes lock the address; the right password, tried once the lock is over,
    takes back only its own attempt, so the very next wrong code is locked again."""
    world.active_account(EMAIL)
    for _ in range(5):
        world.clock.advance(seconds=31)
        challenge_id = world.challenge()
        code = world.last_code(EMAIL, "sign_in")
        assert world.enter_code(challenge_id, _other(code)).status_code == 401
    assert _is_lock(world.sign_in(EMAIL, PASSWORD))
    world.clock.advance(seconds=31)
    challenge_id = world.challenge()
    code = world.last_code(EMAIL, "sign_in")
    assert world.enter_code(challenge_id, _other(code)).status_code == 401  # the sixth
    locked = world.enter_code(challenge_id, code)  # even the right code waits: 4 s now
    assert _is_lock(locked) and locked.headers["Retry-After"] == "4"
    world.clock.advance(seconds=4)
    assert world.enter_code(challenge_id, code).status_code == 201
