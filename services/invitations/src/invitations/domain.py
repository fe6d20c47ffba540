"""Plain rules of invitations: code format, statuses and what may happen in each, expiry.
No I/O here."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

# the code format is a contract between the issuing and the redeeming service
from contracts.codes import (  # noqa: F401
    ALPHABET as ALPHABET,
)
from contracts.codes import (
    CODE_LENGTH as CODE_LENGTH,
)
from contracts.codes import (
    GROUP as GROUP,
)
from contracts.codes import (
    code_digest as code_digest,
)
from contracts.codes import (
    new_code as new_code,
)
from contracts.codes import (
    normalise_code as normalise_code,
)

CODE_VALIDITY = timedelta(days=30)
LANGUAGES = ("en", "fr")


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
