"""What the identity service's use cases are given, built once by ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from identity.challenges import OneTimeCodes
from identity.passwords import Passwords
from identity.terms import Terms

EXTENSION = "nexam.identity"
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    code_key: bytes
    clock: Callable[[], datetime]
    outbox: Outbox
    codes: OneTimeCodes
    passwords: Passwords
    terms: Terms
    public_url: str
    #: a refresh token presented again this soon after its rotation is the same browser
    refresh_reuse_leeway: timedelta


def ctx() -> Context:
    context: Context = current_app.extensions[EXTENSION]
    return context


def request_language(preferred: str | None = None) -> str:
    """The account's language once known, else the browser's, else English."""
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES) or "en"
