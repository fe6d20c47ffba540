"""What the exams service's views are given, built once by ``create_app``, and the two kinds
of caller they serve: a coordinator of an institution, a candidate by account."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.runtime.auth import current_claims
from contracts.runtime.errors import ApiError
from exams.config import ExamSettings
from exams.domain import ExamError
from exams.messages import request_language, say

EXTENSION = "nexam.exams"
#: who manages evaluations: people, and institutions' own systems
COORDINATORS = ("coordinator", "api_client")
CANDIDATES = ("candidate",)

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Callable[[], datetime]
    settings: ExamSettings


def ctx() -> Context:
    context: Context = current_app.extensions[EXTENSION]
    return context


def institution() -> uuid.UUID:
    try:
        return uuid.UUID(str(current_claims().institution))
    except ValueError:
        raise ApiError(403, "forbidden", say("forbidden", request_language())) from None


def candidate() -> uuid.UUID:
    """The candidate's account, the token's subject."""
    try:
        return uuid.UUID(current_claims().subject)
    except ValueError:
        raise ApiError(403, "forbidden", say("not_a_candidate", request_language())) from None


def api_error(error: ExamError) -> ApiError:
    """The refusal in the caller's language, with its details for the page."""
    words = say(error.error, request_language(), **error.extra)
    return ApiError(error.status, error.error, words, **_json_ready(error.extra))


def _json_ready(extra: dict[str, Any]) -> dict[str, Any]:
    def ready(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    return {key: ready(value) for key, value in extra.items()}


def transaction(work: Callable[[Session], T], *, retry_on_conflict: bool = False) -> T:
    """Run ``work`` in one transaction; its refusals become API errors. With
    ``retry_on_conflict``, a unique key taken meanwhile by a concurrent request (a double
    click on Start) runs ``work`` once more, which then finds what the other one made."""
    sessions = ctx().sessions
    try:
        try:
            with sessions() as session, session.begin():
                return work(session)
        except IntegrityError:
            if not retry_on_conflict:
                raise ApiError(409, "conflict", "This changed meanwhile; try again.") from None
            with sessions() as session, session.begin():
                return work(session)
    except ExamError as exc:
        raise api_error(exc) from None
