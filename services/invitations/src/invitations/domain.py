"""Plain rules of invitations: code format, statuses and what may happen in each, expiry.
No I/O here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

#: Crockford's base32: no I, L, O or U, so codes read aloud or retyped survive
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 symbols x 5 bits = 80 bits
GROUP = 4
CODE_VALIDITY = timedelta(days=30)
LANGUAGES = ("en", "fr")

_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})


class Status(StrEnum):
    PENDING = "pending"
    ACTIVATED = "activated"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ENROLLED = "enrolled"


#: statuses in which an invitation still stands: the same person and evaluation is not
#: invited again while one of these exists
STANDING = (Status.PENDING, Status.ACTIVATED, Status.ENROLLED)


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class InvitationStateError(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def new_code() -> str:
    """A fresh invitation code, e.g. ``7KQ2-M9XD-4PRT-WZ3H``."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(symbols[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(typed: str) -> str | None:
    """What a candidate typed, as the code's canonical symbols: case, spaces and dashes
    ignored, O read as 0 and I/L as 1. None when it cannot be a code."""
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


def normalise_email(address: str) -> str:
    """Addresses are compared case-insensitively, and never by alias (no dots or +tags
    removed: those may reach another person)."""
    return address.strip().lower()


def expiry_from(now: datetime) -> datetime:
    return now + CODE_VALIDITY


def check_resend(status: Status) -> None:
    if status in (Status.REVOKED, Status.ACTIVATED):
        raise InvitationStateError(
            f"invitation_{status.value}",
            f"This invitation is {status.value}; it cannot be sent again.",
        )


def check_revoke(status: Status) -> None:
    if status is Status.ACTIVATED:
        raise InvitationStateError(
            "invitation_activated", "The account is already activated; revoke is not possible."
        )
    if status is Status.REVOKED:
        raise InvitationStateError("invitation_revoked", "This invitation is already revoked.")


def csv_safe(value: str) -> str:
    """A cell that a spreadsheet will show as text, never run as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
