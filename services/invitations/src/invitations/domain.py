"""Plain rules of invitations: code format, statuses and what may happen in each, expiry,
what a new invitation and its announcement hold, and the refusals. No I/O here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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
from contracts.runtime.refusals import Refusal

CODE_VALIDITY = timedelta(days=30)


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


def normalise_email(address: str) -> str:
    """Addresses are compared case-insensitively, and never by alias (no dots or +tags
    removed: those may reach another person)."""
    return address.strip().lower()


def expiry_from(now: datetime) -> datetime:
    return now + CODE_VALIDITY


def check_resend(status: Status) -> None:
    if status is Status.REVOKED:
        raise CannotResendRevoked()
    if status is Status.ACTIVATED:
        raise CannotResendActivated()


def check_revoke(status: Status) -> None:
    if status is Status.ACTIVATED:
        raise CannotRevokeActivated()
    if status is Status.REVOKED:
        raise AlreadyRevoked()


def status_on_issue(enrolled: bool) -> Status:
    """An address with an active account is enrolled (it signs in); any other gets a code."""
    return Status.ENROLLED if enrolled else Status.PENDING


def shows_account(status: str) -> bool:
    """Whether an invitation in ``status`` shows its candidate's account (how it signs in):
    activated or enrolled, so that one that ended first tells its institution nothing more."""
    return Status(status) in (Status.ACTIVATED, Status.ENROLLED)


@dataclass(frozen=True)
class Candidate:
    email: str
    first_name: str
    last_name: str
    language: str
    evaluation_ref: str
    evaluation_name: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Candidate:
        """From a roster row, a request body or an invitation's row."""
        return cls(
            email=normalise_email(row["email"]),
            first_name=row["first_name"],
            last_name=row["last_name"],
            language=row.get("language") or "en",
            evaluation_ref=row["evaluation_ref"],
            evaluation_name=row["evaluation_name"],
        )


def new_invitation(
    institution_id: uuid.UUID,
    candidate: Candidate,
    now: datetime,
    *,
    digest: str | None,
    expires_at: datetime | None,
    batch_id: uuid.UUID | None,
) -> dict[str, Any]:
    """A new invitation's row, its event id still to be set; no digest for an enrollment."""
    return {
        "id": uuid.uuid4(),
        "institution_id": institution_id,
        "email": candidate.email,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "language": candidate.language,
        "evaluation_ref": candidate.evaluation_ref,
        "evaluation_name": candidate.evaluation_name,
        "status": status_on_issue(digest is None).value,
        "code_digest": digest,
        "expires_at": expires_at,
        "email_status": EmailStatus.QUEUED.value,
        "email_error": None,
        "last_event_id": None,
        "batch_id": batch_id,
        "created_at": now,
        "updated_at": now,
    }


def issued_data(row: Mapping[str, Any], code: str | None, *, resent: bool) -> dict[str, Any]:
    """What InvitationIssued says of an invitation: with its code, or, for an address with
    an account, without one (a sign-in notice)."""
    return {
        "invitation_id": row["id"],
        "institution_id": row["institution_id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "language": row["language"],
        "evaluation": {"ref": row["evaluation_ref"], "name": row["evaluation_name"]},
        "account_exists": code is None,
        "code": code,
        "expires_at": row["expires_at"],
        "resent": resent,
    }


# -- refusals ----------------------------------------------------------------------------------


class InvitationNotFound(Refusal):
    """Not an invitation of the caller's institution."""

    code = "not_found"


class BatchNotFound(Refusal):
    code = "not_found"


class NoInstitution(Refusal):
    """The caller's token is not tied to an institution."""

    code = "forbidden"


class BadCursor(Refusal):
    code = "bad_cursor"


class InvitationChanged(Refusal):
    """Another change to the same invitation won the race."""

    code = "conflict"


class CannotResendRevoked(Refusal):
    code = "invitation_revoked"


class CannotResendActivated(Refusal):
    code = "invitation_activated"


class CannotRevokeActivated(Refusal):
    code = "invitation_activated"


class AlreadyRevoked(Refusal):
    code = "invitation_revoked"


class InvitationReplaced(Refusal):
    """Bringing back an expired invitation would make two standing ones for one person."""

    code = "invitation_replaced"


class RosterProblem(Refusal):
    """The roster file as a whole cannot be read; nothing in it is taken."""


class RosterNotCsvOrJson(RosterProblem):
    code = "unsupported_media_type"


class RosterTooLarge(RosterProblem):
    """``rows`` in the file, ``max_rows`` allowed."""

    code = "roster_too_large"


class RosterWithoutRows(RosterProblem):
    code = "roster_empty"


class RosterFileEmpty(RosterProblem):
    code = "roster_empty"


class RosterNotUtf8(RosterProblem):
    code = "roster_encoding"


class RosterJsonInvalid(RosterProblem):
    """``reason``: what the JSON reader said."""

    code = "roster_syntax"


class RosterNotAList(RosterProblem):
    code = "roster_syntax"


class RosterCsvUnreadable(RosterProblem):
    """``reason``: what the CSV reader said."""

    code = "roster_syntax"


class RosterHeaderWrong(RosterProblem):
    """``missing`` and ``unknown`` column names; ``columns``, the ones a roster has."""

    code = "roster_header"


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
