"""Invitation codes as DESIGN section 5 fixes them, shared by the service that issues them
and the one that redeems them: 80 random bits in Crockford's base32, groups of four; entry
ignores case, spaces and dashes and reads O as 0 and I/L as 1; stored as a keyed digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: Crockford's base32: no I, L, O or U, so codes read aloud or retyped survive
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 symbols x 5 bits = 80 bits
GROUP = 4

_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh invitation code, e.g. ``7KQ2-M9XD-4PRT-WZ3H``."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(symbols[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(typed: str) -> str | None:
    """What a candidate typed, as the code's canonical symbols; None when it cannot be one."""
    symbols = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_TYPO_MAP)
    if len(symbols) != CODE_LENGTH or any(ch not in ALPHABET for ch in symbols):
        return None
    return symbols


def code_digest(key: bytes, code: str) -> str:
    """The keyed digest stored instead of the code."""
    symbols = normalise_code(code)
    if symbols is None:
        raise ValueError("not an invitation code")
    return hmac.new(key, symbols.encode(), hashlib.sha256).hexdigest()
