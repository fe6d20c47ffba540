"""The platform's password policy, and argon2id hashing (OWASP parameters).

Passwords are NFC-normalised first everywhere, so the same password typed on systems that
compose accents differently counts, hashes and verifies the same. "Common" means among the
most common passwords (DESIGN): an exact entry of zxcvbn's list of leaked passwords, a zxcvbn
score below 2, or one of those entries or of the user's own words (email, names), in any case,
reversed or in l33t, with at most a few digits or symbols around it: "Welcome2024!",
"Dupont1990" for Jean Dupont."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

RULES = ("min_length", "max_length", "uppercase", "lowercase", "digit", "common", "contains_email")
MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn's matching grows quickly with length; a longer password is not a common one
COMMON_CHECK_MAX_LENGTH = 64
# a list entry with a year and a symbol around it ("Summer2024!") is still that entry
COMMON_DECORATION_MAX = 5
EMAIL_PART_MIN_LENGTH = 3

# zxcvbn keeps the user inputs in a module-level dictionary between its steps: two threads
# checking at once would see each other's inputs
_ZXCVBN_LOCK = threading.Lock()
_WORD_SEPARATORS = re.compile(r"[\s._-]+")
# zxcvbn's dictionaries tried first by guessers: leaked passwords, and the user's own words
_GUESSED_FIRST = ("passwords", "user_inputs")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _email_name(email: str) -> str:
    """The local part without its "+tag": jdupont+x@example.org -> jdupont."""
    email = _normalise(email).strip()
    local, at, _ = email.rpartition("@")
    return (local if at else email).split("+", 1)[0]


def _zxcvbn(password: str, user_inputs: list[str]) -> dict[str, Any]:
    from zxcvbn import zxcvbn  # imported on first use: it builds its dictionaries on import

    with _ZXCVBN_LOCK:
        result: dict[str, Any] = zxcvbn(password, user_inputs=user_inputs)
    return result


def _is_decorated_entry(password: str, sequence: list[dict[str, Any]]) -> bool:
    for match in sequence:
        if match["pattern"] == "dictionary" and match["dictionary_name"] in _GUESSED_FIRST:
            rest = password[: match["i"]] + password[match["j"] + 1 :]
            if len(rest) <= COMMON_DECORATION_MAX and not any(c.isalpha() for c in rest):
                return True
    return False


def _is_common(password: str, user_inputs: list[str]) -> bool:
    if not password or len(password) > COMMON_CHECK_MAX_LENGTH:
        return False  # zxcvbn fails on an empty password, which min_length refuses anyway
    from zxcvbn.matching import RANKED_DICTIONARIES

    if password.lower() in RANKED_DICTIONARIES["passwords"]:
        return True
    result = _zxcvbn(password, user_inputs)
    # zxcvbn 4.5 only knows years up to 2019 as years, so "Welcome2024" scores 2
    return int(result["score"]) < 2 or _is_decorated_entry(password, result["sequence"])


def broken_rules(password: str, email: str, *, names: Sequence[str] = ()) -> list[str]:
    """Every rule the password breaks, in RULES order."""
    password = _normalise(password)
    email_name = _email_name(email)
    # "jean.dupont" and "Jean-Pierre Dupont" also as their words: "Dupont2024" is weak too
    user_inputs = [
        part
        for value in (email_name, *names)
        for part in (value, *_WORD_SEPARATORS.split(value))
        if part
    ]
    broken = {
        "min_length": len(password) < MIN_LENGTH,
        "max_length": len(password) > MAX_LENGTH,
        "uppercase": not any(c.isupper() for c in password),
        "lowercase": not any(c.islower() for c in password),
        "digit": not any(c.isdigit() for c in password),
        "common": _is_common(password, user_inputs),
        "contains_email": len(email_name) >= EMAIL_PART_MIN_LENGTH
        and email_name.casefold() in password.casefold(),
    }
    return [rule for rule in RULES if broken[rule]]


def _default_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


class Passwords:
    """Hashes and verifies; an unknown account's sign-in calls verify_nothing so that it takes
    as long as a known one's."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = _default_hasher() if hasher is None else hasher
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        password = _normalise(password)
        if len(password) > MAX_LENGTH:
            raise ValueError(f"a password has at most {MAX_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        password = _normalise(password)
        if len(password) > MAX_LENGTH:
            return False  # no hashing of huge inputs: none of them was ever stored
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True  # unreadable: only a new hash can be kept

    def verify_nothing(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("nexam-no-such-account")
        self.verify(self._dummy_hash, password)
