"""The sign-in sessions identity has ended, as each gateway process keeps them (DESIGN
section 5): signing out, a password change or reset, a replayed refresh token end access
everywhere within seconds, not when the access token expires. The services trust a token's
signature alone, so the gateway, the one public door, refuses every token whose ``sid`` is
listed here, for the API and for the pages alike. A session stays listed until the last
access token it was given has expired; the 12-hour end needs no listing, since no access
token outlives its session (``CandidateTokens``)."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app, request

from contracts.runtime.auth import bearer_token
from contracts.runtime.errors import error_response
from contracts.runtime.languages import request_language

EXTENSION = "nexam.ended_sessions"
#: beyond the token's own lifetime: clocks of identity and the gateway that differ, and the
#: services' leeway on ``exp`` (10 s)
TOKEN_LEEWAY = timedelta(seconds=60)
#: the words identity uses for the token of an ended session
SESSION_ENDED_MESSAGES = {
    "en": "Your session has ended. Sign in again.",
    "fr": "Votre session a pris fin. Connectez-vous à nouveau.",
}
#: how often forgotten entries are cleared out (lookups ignore them anyway)
PRUNE_EVERY_SECONDS = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class EndedSessions:
    """Ended session ids, each until its tokens have all expired. Read by every request
    thread and written by the thread that listens to the bus: a lookup is one dict read."""

    def __init__(self, keep_for: timedelta, clock: Callable[[], datetime] = utc_now) -> None:
        self.keep_for = keep_for
        self._clock = clock
        self._until: dict[str, datetime] = {}
        self._writing = threading.Lock()
        self._next_prune = 0.0

    def __len__(self) -> int:
        return len(self._until)

    def add(self, session_ids: Iterable[str], ended_at: datetime) -> None:
        until = ended_at + self.keep_for
        if until <= self._clock():
            return  # every token of these sessions has expired already
        with self._writing:
            for session_id in session_ids:
                self._until[session_id] = max(until, self._until.get(session_id, until))
        if time.monotonic() >= self._next_prune:
            self.prune()

    def has_ended(self, session_id: str) -> bool:
        until = self._until.get(session_id)
        return until is not None and self._clock() < until

    def prune(self) -> int:
        """Forget the sessions whose tokens have all expired; returns how many."""
        now = self._clock()
        with self._writing:
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            kept = {sid: until for sid, until in self._until.items() if until > now}
            forgotten = len(self._until) - len(kept)
            self._until = kept
        return forgotten

    def refuses(self, token: str) -> bool:
        """Whether ``token`` belongs to an ended session."""
        if not self._until:
            return False
        session_id = session_of(token)
        return session_id is not None and self.has_ended(session_id)


def session_of(token: str) -> str | None:
    """The ``sid`` claim of an access token, read without checking the signature: enough to
    refuse the token of an ended session, and a forged ``sid`` gains nothing, since every
    service checks the signature."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    session_id = claims.get("sid") if isinstance(claims, dict) else None
    return session_id if isinstance(session_id, str) else None


def session_ended_response() -> Response:
    """The answer identity gives to the token of an ended session."""
    language = request_language()
    response = error_response(401, "invalid_token", SESSION_ENDED_MESSAGES[language])
    response.headers["WWW-Authenticate"] = 'Bearer realm="nexam"'
    return response


def install_ended_sessions_check(app: Flask, ended: EndedSessions) -> None:
    """Refuse the API calls made with the token of an ended session, before they go on."""
    app.extensions[EXTENSION] = ended

    @app.before_request
    def refuse_ended_sessions() -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        token = bearer_token()
        if token is not None and ended.refuses(token):
            return session_ended_response()
        return None


def has_ended(token: str) -> bool:
    """Whether the current app lists ``token``'s session as ended (for the pages, whose
    tokens travel in the session cookie rather than in the request)."""
    ended: EndedSessions = current_app.extensions[EXTENSION]
    return ended.refuses(token)
