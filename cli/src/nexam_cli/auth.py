"""Where the bearer token comes from: ``NEXAM_TOKEN`` as given, or an API client's
credentials exchanged for a token. Tokens are sent, never shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import requests

from nexam_cli.errors import ApiProblem, CredentialsProblem, display_url, unreachable

TOKEN_PATH = "/api/v1/oauth/token"
#: a fetched token is renewed this long before the server says it expires
TOKEN_MARGIN_SECONDS = 30


class TokenSource(Protocol):
    def token(self) -> str:
        """A bearer token to send now."""
        ...

    def renew(self) -> bool:
        """Forget the current token; True when a fresh one can be fetched."""
        ...


class StaticToken:
    """``NEXAM_TOKEN``: used as given, cannot be renewed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def renew(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


class ClientCredentials:
    """``NEXAM_CLIENT_ID`` + ``NEXAM_CLIENT_SECRET``, exchanged for an access token at
    ``POST /api/v1/oauth/token`` when first needed and again shortly before it expires."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout
        self._clock = clock
        self._token: str | None = None
        self._valid_until = 0.0

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self._client_id!r}, secret=<hidden>)"

    def token(self) -> str:
        if self._token is None or self._clock() >= self._valid_until:
            self._token, lifetime = self._fetch()
            self._valid_until = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
        return self._token

    def renew(self) -> bool:
        self._token = None
        return True

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._session.post(
                self._base_url + TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise unreachable(self._base_url, exc, self._timeout) from None
        with response:
            if response.status_code in (404, 405, 501):
                raise CredentialsProblem(
                    f"{display_url(self._base_url)} does not offer API-client sign-in yet "
                    f"(POST {TOKEN_PATH} answered {response.status_code}). Set NEXAM_TOKEN to "
                    "a coordinator's access token instead."
                )
            if response.status_code in (400, 401, 403):
                problem = ApiProblem.from_response(response)
                raise CredentialsProblem(
                    "NEXAM_CLIENT_ID and NEXAM_CLIENT_SECRET were refused: " + problem.message
                )
            if response.status_code >= 300:
                raise ApiProblem.from_response(response)
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise CredentialsProblem(f"POST {TOKEN_PATH} did not answer with an access token.")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int | float) or lifetime <= 0:
            lifetime = 300
        return body["access_token"], float(lifetime)
