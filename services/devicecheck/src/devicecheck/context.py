"""What the device check's use cases are given, built once by ``create_app``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, request
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.runtime.auth import current_claims
from devicecheck.config import RequestBudget
from devicecheck.thresholds import Thresholds

EXTENSION = "nexam.devicecheck"
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Callable[[], datetime]
    #: a monotonic clock in seconds, for timing uploads
    timer: Callable[[], float]
    thresholds: Thresholds
    budget: RequestBudget
    document: bytes


def ctx() -> Context:
    context: Context = current_app.extensions[EXTENSION]
    return context


def request_language() -> str:
    return request.accept_languages.best_match(LANGUAGES) or "en"


def account_id() -> uuid.UUID | None:
    """The candidate of the bearer token, if its subject is an account id at all."""
    try:
        return uuid.UUID(current_claims().subject)
    except ValueError:
        return None
