"""The password policy (each rule, in English and French) and argon2id hashing. No I/O."""

from __future__ import annotations

import random
import string
import unicodedata

import pytest
from argon2 import PasswordHasher

from identity.api import described
from identity.passwords import MAX_LENGTH, RULES, Passwords, broken_rules

EMAIL = "jdupont+x@example.org"
# cheap enough for tests that hash many times; parameters other than the platform's
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _random_mix(length: int, seed: int) -> str:
    """A reproducible random password with every kind of character."""
    pick = random.Random(seed).choice
    body = "".join(
        pick(string.ascii_letters + string.digits + string.punctuation) for _ in range(length - 3)
    )
    return "Aa1" + body


def violations(
    password: str, email: str, language: str, *, names: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """The broken rules with their words, as identity answers them."""
    return described(broken_rules(password, email, names=names), language)


def _rules(password: str, email: str = EMAIL, names: tuple[str, ...] = ()) -> list[str]:
    return [v["rule"] for v in violations(password, email, "en", names=names)]


# -- the policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Xq7#Lm2", "min_length"),
        (("Kx7mPq2w-" * 15)[: MAX_LENGTH + 1], "max_length"),
        ("xq7#lm2vz9", "uppercase"),
        ("XQ7#LM2VZ9", "lowercase"),
        ("Xq#Lm-Vz!Pw", "digit"),
        ("Password1", "common"),
        ("Kx7mPq2w-JDupont", "contains_email"),
    ],
)
def test_a_password_breaking_one_rule_gets_exactly_that_violation(password: str, rule: str) -> None:
    assert _rules(password) == [rule]


def test_every_broken_rule_is_listed_together_in_rules_order() -> None:
    assert _rules("jdupont") == ["min_length", "uppercase", "digit", "common", "contains_email"]
    assert _rules("password") == ["uppercase", "digit", "common"]


def test_each_violation_has_its_message() -> None:
    assert violations("jdupont", EMAIL, "en") == [
        {"rule": "min_length", "message": "At least 8 characters."},
        {"rule": "uppercase", "message": "At least one uppercase letter."},
        {"rule": "digit", "message": "At least one digit."},
        {"rule": "common", "message": "This password is too common. Choose another one."},
        {
            "rule": "contains_email",
            "message": "The password must not contain your email address.",
        },
    ]
    assert violations("X" * 129, EMAIL, "en") == [
        {"rule": "max_length", "message": "At most 128 characters."},
        {"rule": "lowercase", "message": "At least one lowercase letter."},
        {"rule": "digit", "message": "At least one digit."},
    ]


def test_messages_in_french() -> None:
    french = {v["rule"]: v["message"] for v in violations("jdupont", EMAIL, "fr")}
    french |= {v["rule"]: v["message"] for v in violations("X" * 129, EMAIL, "fr")}
    assert french == {
        "min_length": "Au moins 8 caractères.",
        "max_length": "Au plus 128 caractères.",
        "uppercase": "Au moins une lettre majuscule.",
        "lowercase": "Au moins une lettre minuscule.",
        "digit": "Au moins un chiffre.",
        "common": "Ce mot de passe est trop courant. Choisissez-en un autre.",
        "contains_email": "Le mot de passe ne doit pas contenir votre adresse courriel.",
    }
    assert set(french) == set(RULES)


def test_an_unknown_language_gets_english() -> None:
    assert violations("Xq7#Lm2", EMAIL, "de") == [
        {"rule": "min_length", "message": "At least 8 characters."}
    ]


def test_the_longest_password_is_accepted_and_one_more_character_is_not() -> None:
    longest = _random_mix(MAX_LENGTH, seed=1)
    assert len(longest) == MAX_LENGTH
    assert _rules(longest) == []
    assert _rules(longest + "x") == ["max_length"]


def test_length_is_counted_after_nfc_normalisation() -> None:
    composed = "Éla-42xy"  # 8 characters; 9 code points once decomposed
    assert _rules(unicodedata.normalize("NFD", composed)) == []
    assert _rules(unicodedata.normalize("NFD", "Éla-42x")) == ["min_length"]


@pytest.mark.parametrize(
    "password",
    [
        "Password1",
        "Qwerty123",
        "Welcome2024",
        "Azerty123",
        "Summer2024!",  # a leaked password with a recent year and a symbol
        "P@ssw0rd2024",  # in l33t
        "Drowssap2024",  # reversed
        "Monkey123",
        "Bonjour123",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert _rules(password) == ["common"]


@pytest.mark.parametrize(
    "password",
    [
        "Correct-Horse-9-Battery",
        "Tr0ub4dour&3xyz!",
        "Élan-Vital-2026",
        "Ünïcödé-Pässwört-42",
        "ΑΒΓ-δεζ-42xy",
        "Kx7mPq2w",  # random, as short as allowed
        "Monkey-8472-915!",  # a leaked password, but with more than a few characters around it
        "Tomate42Rouge",
        "Paris2024",
    ],
)
def test_reasonable_passwords_are_accepted(password: str) -> None:
    assert _rules(password) == []


def test_unicode_letters_count_as_uppercase_and_lowercase() -> None:
    assert _rules("ÉLAN-VITAL-2026") == ["lowercase"]
    assert _rules("élan-vital-2026") == ["uppercase"]


def test_names_and_the_email_are_guessed_first() -> None:
    assert _rules("Dupont2024!", "prof7@example.org") == []
    assert _rules("Dupont2024!", "prof7@example.org", names=("Jean", "Dupont")) == ["common"]
    assert _rules("Dupont2024!", "jean.dupont@example.org") == ["common"]


def test_the_email_local_part_is_refused_in_any_case_and_without_its_tag() -> None:
    assert _rules("Kx7mPq2w-JDUPONT") == ["contains_email"]
    assert _rules("Kx7mPq2w-jdupont", "JDupont@Example.org") == ["contains_email"]
    assert _rules("Kx7mPq2w-jdupont+x") == ["contains_email"]


def test_a_local_part_shorter_than_three_characters_is_not_looked_for() -> None:
    assert _rules("Kx7mPq2w-Jo", "jo+exams@example.org") == []
    assert _rules("Kx7mPq2w-Joe", "joe+exams@example.org") == ["contains_email"]


# -- hashing ---------------------------------------------------------------------------------------


def test_a_hash_verifies_its_password_only() -> None:
    passwords = Passwords(FAST)
    stored = passwords.hash("Correct-Horse-9-Battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "Correct-Horse-9-Battery")
    assert not passwords.verify(stored, "Correct-Horse-9-Batterx")
    assert not passwords.verify(stored, "")


def test_composed_and_decomposed_forms_of_a_password_are_the_same_password() -> None:
    passwords = Passwords(FAST)
    nfc, nfd = (unicodedata.normalize(form, "Élan-Vital-2026") for form in ("NFC", "NFD"))
    assert nfc != nfd
    assert passwords.verify(passwords.hash(nfd), nfc)
    assert passwords.verify(passwords.hash(nfc), nfd)


def test_a_garbage_hash_does_not_verify() -> None:
    passwords = Passwords(FAST)
    for garbage in ("", "garbage", "$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB"):
        assert not passwords.verify(garbage, "Correct-Horse-9-Battery")


def test_the_default_parameters_are_owasp_s() -> None:
    passwords = Passwords()
    stored = passwords.hash("Correct-Horse-9-Battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify(stored, "Correct-Horse-9-Battery")
    assert not passwords.needs_rehash(stored)
    older = PasswordHasher(time_cost=1, memory_cost=8192).hash("Correct-Horse-9-Battery")
    assert passwords.needs_rehash(older)
    assert passwords.verify(older, "Correct-Horse-9-Battery")  # still signs in, then rehash


def test_an_unreadable_hash_needs_rehashing() -> None:
    assert Passwords(FAST).needs_rehash("garbage")


class _CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.hashes = 0
        self.verifications = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashes += 1
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def test_passwords_longer_than_the_maximum_are_never_hashed() -> None:
    hasher = _CountingHasher()
    passwords = Passwords(hasher)
    stored = passwords.hash("x" * MAX_LENGTH)
    assert passwords.verify(stored, "x" * MAX_LENGTH)
    with pytest.raises(ValueError):
        passwords.hash("x" * (MAX_LENGTH + 1))
    assert not passwords.verify(stored, "x" * (MAX_LENGTH + 1))
    assert not passwords.verify(stored, "x" * 1_000_000)
    assert (hasher.hashes, hasher.verifications) == (1, 1)


def test_verifying_nothing_costs_one_verification_with_a_dummy_hash_made_once() -> None:
    hasher = _CountingHasher()
    passwords = Passwords(hasher)
    assert hasher.hashes == 0  # nothing hashed until needed
    passwords.verify_nothing("Correct-Horse-9-Battery")
    passwords.verify_nothing("Tr0ub4dour&3xyz!")
    passwords.verify_nothing("x" * 1_000_000)
    assert (hasher.hashes, hasher.verifications) == (1, 2)
