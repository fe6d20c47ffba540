"""Plain rules of invitations: code format, statuses and what may happen in each, expiry.
No I/O here."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

# the code format is a contract between the issuing and the redeeming service
from contracts.events.codes import (  # noqa: F401
    ALPHABET as ALPHABET,
)
from contracts.events.codes import (
    CODE_LENGTH as CODE_LENGTH,
)
from contracts.events.codes import (
    GROUP as GROUP,
)
from contracts.events.codes import (
    code_digest as code_digest,
)
from contracts.events.codes import (
    new_code as new_code,
)
from contracts.events.codes import (
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


#: what starts a formula in a spreadsheet (OWASP's list, with LF), and what a spreadsheet may
#: split a line on: its field separators, and line ends for a reader that ignores quotes
FORMULA_STARTS = "=+-@\t\r\n"
SEPARATORS = ",;\t|\r\n"
_FORMULA = f"[{re.escape(FORMULA_STARTS)}]"
_FORMULA_AT_START = re.compile(f"^ *{_FORMULA}")
# spaces (a spreadsheet may trim them) and quotes (a reader may leave a quoted field early,
# with its own separator) before the formula count as nothing
_FORMULA_AFTER_SEPARATOR = re.compile(f'([{re.escape(SEPARATORS)}])(?=[ "]*{_FORMULA})')


def csv_safe(value: str) -> str:
    """A cell that a spreadsheet will show as text, never run as a formula, whichever of
    ``, ; TAB |`` it splits the line on, and written with every cell quoted (QUOTE_ALL).

    The rule: a single quote goes after every separator that spaces or quotes and then a
    formula character follow, and before the whole cell when it starts that way. A piece of
    the cell starts either at its start or right after a separator, and after the rewrite
    neither is followed by a formula character: the quote inserted is neither a space, a
    quote, a separator nor a formula character, so it breaks each such run and makes none."""
    safe = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + safe if _FORMULA_AT_START.match(safe) else safe
