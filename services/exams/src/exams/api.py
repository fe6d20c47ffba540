"""What the exams service's views share: what they are given (``Context``), the two kinds of
caller they serve (a coordinator of an institution, a candidate by account), and how a
refusal of exams is answered: its status, and its words in the caller's language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock
from contracts.runtime.auth import current_claims
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from contracts.runtime.refusals import Refusal
from contracts.runtime.translations import N_, Catalog
from exams.config import Settings

#: who manages evaluations: people, and institutions' own systems
COORDINATORS = ("coordinator", "api_client")
CANDIDATES = ("candidate",)

CATALOG = Catalog("exams")


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Clock
    settings: Settings


#: each refusal's status (409 unless said here) and words, by code
STATUS = {
    "exam_not_found": 404,
    "attempt_not_found": 404,
    "evaluation_not_found": 404,
    "copy_not_found": 404,
    "document_not_available": 404,
    "answer_too_large": 413,
    "document_too_large": 413,
    "unsupported_media_type": 415,
    "document_not_pdf": 422,
}
WORDS = {
    # starting an exam
    "outside_start_window": N_(
        "This exam cannot be started now. It can be started from its start time and "
        "for {start_window_minutes} minutes after."
    ),
    "device_check_required": N_("Validate your device before starting this exam."),
    "technical_test_required": N_("Take the technical test before starting this exam."),
    "screen_share_required": N_(
        "Share your entire screen, not a window or a tab, to start the exam."
    ),
    "webcam_required": N_("Turn on your webcam to start the exam."),
    "terms_not_accepted": N_("Accept the exam terms to start the exam."),
    # during an attempt
    "already_submitted": N_("Your copy for this exam has already been submitted."),
    "time_over": N_(
        "The time for this exam is over. Your last saved answer is kept; submit it now."
    ),
    "stale_revision": N_(
        "Your answer was changed elsewhere, in another tab or on another device. Reload "
        "the page to continue from the latest version."
    ),
    "answer_too_large": N_("Your answer is too long to be saved (at most {max_bytes} bytes)."),
    "too_many_events": N_("Too many events were reported for this attempt."),
    "document_not_available": N_(
        "The exam subject is not available yet. Tell your evaluation coordinator."
    ),
    "exam_not_found": N_("No such exam."),
    "attempt_not_found": N_("No such exam attempt."),
    # the coordinator's side; this refusal has no details, so {ref} is shown as written
    "evaluation_not_found": N_(
        "No such evaluation. Create it first with PUT /api/v1/evaluations/{ref}."
    ),
    "copy_not_found": N_("No such copy."),
    "document_not_pdf": N_("The document is not a PDF file."),
    "unsupported_media_type": N_("Send the document as application/pdf."),
    "document_too_large": N_("The document is too large (at most {max_bytes} bytes)."),
    "exam_already_started": N_(
        "Candidates have started this exam; its subject can no longer be replaced."
    ),
}


def answer(refusal: Refusal) -> ApiError:
    """The refusal in the caller's language, with its details for the page."""
    words = CATALOG.say(WORDS[refusal.code], request_language(), **refusal.details)
    status = STATUS.get(refusal.code, 409)
    return ApiError(status, refusal.code, words, **_json_ready(refusal.details))


def _json_ready(details: dict[str, Any]) -> dict[str, Any]:
    def ready(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    return {key: ready(value) for key, value in details.items()}


def institution() -> uuid.UUID:
    """The coordinator's institution, from the token."""
    try:
        return uuid.UUID(str(current_claims().institution))
    except ValueError:
        words = CATALOG.say("This token is not tied to an institution.", request_language())
        raise ApiError(403, "forbidden", words) from None


def candidate() -> uuid.UUID:
    """The candidate's account, the token's subject."""
    try:
        return uuid.UUID(current_claims().subject)
    except ValueError:
        words = CATALOG.say("This token does not name a candidate's account.", request_language())
        raise ApiError(403, "forbidden", words) from None
