"""The languages the platform speaks, and which one a request is answered in."""

from __future__ import annotations

from flask import request

from contracts.events.schemas import LANGUAGES

DEFAULT_LANGUAGE = "en"


def request_language(preferred: str | None = None) -> str:
    """The account's language once known, else the browser's, else English."""
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "request_language"]
