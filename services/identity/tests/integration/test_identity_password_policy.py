"""The password policy as the activation's password step applies it (DESIGN section 5):
each rule alone, several at once, the length limits, common and unicode passwords, French."""

from __future__ import annotations

import random
import string
import unicodedata

import pytest
from identity_testkit import IdentityWorld
from werkzeug.test import TestResponse

from identity.api import RULE_WORDS

EMAIL = "jdupont@example.org"
POLICY = "The password does not follow the rules."
POLICY_FR = "Le mot de passe ne respecte pas les règles."

ONE_RULE = {
    "min_length": "Xq7#Lm2",
    "max_length": ("Kx7mPq2w-" * 15)[:129],
    "uppercase": "xq7#lm2vz9",
    "lowercase": "XQ7#LM2VZ9",
    "digit": "Xq#Lm-Vz!Pw",
    "common": "Password1",
    "contains_email": "Kx7mPq2w-JDupont",
}


@pytest.fixture
def token(world: IdentityWorld) -> str:
    """An activation token of Jean Dupont, no step done."""
    return world.activation_token(world.invite(EMAIL, first_name="Jean", last_name="Dupont"))


def _violations(answer: TestResponse, message: str = POLICY) -> list[dict[str, str]]:
    status, body = answer.status_code, answer.json
    assert status == 422, body
    assert (body["error"], body["message"]) == ("password_policy", message)
    violations: list[dict[str, str]] = body["violations"]
    return violations


def _random_mix(length: int) -> str:
    pick = random.Random(7).choice
    return "Aa1" + "".join(
        pick(string.ascii_letters + string.digits + string.punctuation) for _ in range(length - 3)
    )


def test_each_rule_alone_gets_exactly_its_violation(world: IdentityWorld, token: str) -> None:
    for rule, password in ONE_RULE.items():
        answer = world.step(token, "password", {"password": password})
        assert _violations(answer) == [{"rule": rule, "message": RULE_WORDS[rule]}], rule
    assert world.account(EMAIL).password_hash is None


def test_every_broken_rule_is_listed_together(world: IdentityWorld, token: str) -> None:
    answer = world.step(token, "password", {"password": "jdupont"})
    assert [v["rule"] for v in _violations(answer)] == [
        "min_length",
        "uppercase",
        "digit",
        "common",
        "contains_email",
    ]
    answer = world.step(token, "password", {"password": "X" * 129})
    assert [v["rule"] for v in _violations(answer)] == ["max_length", "lowercase", "digit"]


def test_128_characters_are_accepted_whole_and_129_are_not(
    world: IdentityWorld, token: str
) -> None:
    longest = _random_mix(128)
    refused = world.step(token, "password", {"password": longest + "x"})
    assert [v["rule"] for v in _violations(refused)] == ["max_length"]
    accepted = world.step(token, "password", {"password": longest})
    assert accepted.status_code == 200
    assert accepted.json["steps"][0] == {"name": "password", "done": True}
    stored = world.account(EMAIL).password_hash
    passwords = world.context.passwords
    assert passwords.verify(stored, longest)
    assert not passwords.verify(stored, longest[:-1])  # never truncated
    assert not passwords.verify(stored, longest[:72])


def test_a_common_password_is_refused(world: IdentityWorld, token: str) -> None:
    for common in ("Password1", "Azerty123", "Dupont2024!"):
        answer = world.step(token, "password", {"password": common})
        assert [v["rule"] for v in _violations(answer)] == ["common"], common


def test_a_unicode_password_is_accepted_and_signs_in_however_composed(
    world: IdentityWorld,
) -> None:
    password = "Ünïcödé-Pässwört-42"
    invitation = world.invite(EMAIL, first_name="Jean", last_name="Dupont")
    world.activate(invitation, password=unicodedata.normalize("NFC", password))
    answer = world.sign_in(EMAIL, unicodedata.normalize("NFD", password))
    assert answer.status_code == 200, answer.json


def test_messages_in_french(world: IdentityWorld, token: str) -> None:
    fr = {"Accept-Language": "fr-FR,fr;q=0.9"}
    answer = world.step(token, "password", {"password": "jdupont"}, **fr)
    assert _violations(answer, POLICY_FR) == [
        {"rule": "min_length", "message": "Au moins 8 caractères."},
        {"rule": "uppercase", "message": "Au moins une lettre majuscule."},
        {"rule": "digit", "message": "Au moins un chiffre."},
        {"rule": "common", "message": "Ce mot de passe est trop courant. Choisissez-en un autre."},
        {
            "rule": "contains_email",
            "message": "Le mot de passe ne doit pas contenir votre adresse courriel.",
        },
    ]
    # once French is chosen, it is French whatever the browser says
    assert world.step(token, "password", {"password": "Correct-Horse-9-Battery"}).status_code == 200
    assert world.step(token, "language", {"language": "fr"}).status_code == 200
    answer = world.step(token, "password", {"password": "X" * 129})
    assert _violations(answer, POLICY_FR) == [
        {"rule": "max_length", "message": "Au plus 128 caractères."},
        {"rule": "lowercase", "message": "Au moins une lettre minuscule."},
        {"rule": "digit", "message": "Au moins un chiffre."},
    ]
