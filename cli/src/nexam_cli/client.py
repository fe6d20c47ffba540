"""A thin client of the public coordinator API (DESIGN section 6): one method per endpoint,
answers as plain JSON dictionaries, and every failure as a :class:`NexamError` whose message
can be shown as it is. Tokens are sent, never shown."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Protocol, TypedDict, cast
from urllib.parse import urlsplit, urlunsplit

import requests

INVITATIONS = "/api/v1/invitations"
TOKEN_PATH = "/api/v1/oauth/token"
#: a fetched token is renewed this long before the server says it expires
TOKEN_MARGIN_SECONDS = 30


class NexamError(Exception):
    """A failure the tool reports as a message (exit status 2), never as a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiProblem(NexamError):
    """The API answered with an error: ``{error, message, ...}`` and the HTTP status."""

    def __init__(
        self, status: int, error: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.details: dict[str, Any] = dict(details or {})

    @classmethod
    def from_response(cls, response: requests.Response) -> ApiProblem:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            error = body["error"]
            message = body.get("message")
            details = {k: v for k, v in body.items() if k not in ("error", "message")}
            return cls(response.status_code, error, str(message or error), details)
        reason = f" {response.reason}" if response.reason else ""
        return cls(
            response.status_code,
            f"http_{response.status_code}",
            f"The server answered {response.status_code}{reason}; is NEXAM_URL the Nexam "
            "platform's address?",
        )


class Unreachable(NexamError):
    """No answer at all: refused, unknown host, TLS failure, timeout."""


class CredentialsProblem(NexamError):
    """Missing, incomplete or refused credentials."""


def display_url(url: str) -> str:
    """An address as it may be shown: without any user name or password in it."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def unreachable(base_url: str, exc: requests.RequestException, timeout: float) -> NexamError:
    shown = display_url(base_url)
    if isinstance(exc, requests.Timeout):
        return Unreachable(
            f"NEXAM_URL ({shown}) did not answer within {timeout:g} s; retry, or allow more "
            "time with NEXAM_TIMEOUT."
        )
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return Unreachable(f"NEXAM_URL ({shown}) is not a valid http:// or https:// address.")
    if isinstance(exc, requests.exceptions.SSLError):
        reason = "its TLS certificate could not be verified"
    elif isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            reason = "connection refused"
        elif "name or service not known" in text or "getaddrinfo" in text or "resolve" in text:
            reason = "unknown host"
        elif "reset" in text or "aborted" in text or "broken pipe" in text:
            reason = "the connection was closed by the other side"
        else:
            reason = "the connection failed"
    else:
        reason = exc.__class__.__name__
    return Unreachable(
        f"Cannot reach NEXAM_URL ({shown}): {reason}. Check the address and that the "
        "platform is running."
    )


class Evaluation(TypedDict):
    ref: str
    name: str


class Invitation(TypedDict):
    id: str
    email: str
    first_name: str
    last_name: str
    language: str
    status: str
    expires_at: str | None
    evaluation: Evaluation
    email_status: str
    email_error: str | None
    batch_id: str | None
    created_at: str
    updated_at: str


class RejectedRow(TypedDict):
    row: int
    errors: dict[str, Any]


class BatchAccepted(TypedDict):
    batch_id: str
    accepted: int
    rejected: list[RejectedRow]


class Batch(TypedDict):
    batch_id: str
    status: str  # processing, completed
    total_rows: int
    accepted: int
    processed: int
    issued: int
    enrolled: int
    skipped: int
    rejected: list[RejectedRow]
    created_at: str
    completed_at: str | None


class Page(TypedDict):
    items: list[Invitation]
    next_cursor: str | None


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


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class ApiClient:
    """The coordinator endpoints under ``/api/v1/invitations``."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        auth: TokenSource,
        *,
        timeout: float = 30.0,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._timeout = timeout

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        extra_headers: dict[str, str] = kwargs.pop("headers", {})
        for attempt in (1, 2):
            headers = {
                "Accept": "application/json",
                **extra_headers,
                "Authorization": f"Bearer {self._auth.token()}",
            }
            try:
                response = self._session.request(
                    method, self.base_url + path, headers=headers, timeout=self._timeout, **kwargs
                )
            except requests.RequestException as exc:
                raise unreachable(self.base_url, exc, self._timeout) from None
            if response.status_code == 401 and attempt == 1 and self._auth.renew():
                response.close()
                continue
            if response.status_code >= 400:
                with response:
                    raise ApiProblem.from_response(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, int]:
        with self._send(method, path, **kwargs) as response:
            try:
                return response.json(), response.status_code
            except ValueError:
                raise ApiProblem(
                    response.status_code,
                    "not_json",
                    "The server's answer is not JSON; is NEXAM_URL the Nexam platform's address?",
                ) from None

    def invite(self, candidate: Mapping[str, Any]) -> tuple[Invitation, bool]:
        """Invite one candidate; True when a new invitation was made, False when the
        standing one for this person and evaluation came back."""
        body, status = self._json("POST", INVITATIONS, json=dict(candidate))
        return cast(Invitation, body), status == 201

    def upload_roster(self, content: bytes, content_type: str) -> BatchAccepted:
        body, _ = self._json(
            "POST", f"{INVITATIONS}/bulk", data=content, headers={"Content-Type": content_type}
        )
        return cast(BatchAccepted, body)

    def batch(self, batch_id: uuid.UUID | str) -> Batch:
        body, _ = self._json("GET", f"{INVITATIONS}/batches/{batch_id}")
        return cast(Batch, body)

    def page(
        self,
        *,
        status: str | None = None,
        evaluation: str | None = None,
        email: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page:
        params = _drop_none(
            {
                "status": status,
                "evaluation": evaluation,
                "email": email,
                "cursor": cursor,
                "limit": limit,
            }
        )
        body, _ = self._json("GET", INVITATIONS, params=params)
        return cast(Page, body)

    def invitations(
        self,
        *,
        status: str | None = None,
        evaluation: str | None = None,
        email: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Invitation]:
        """Every invitation matching the filters, following ``next_cursor``."""
        while True:
            page = self.page(
                status=status, evaluation=evaluation, email=email, cursor=cursor, limit=limit
            )
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor or not page["items"]:
                return

    def invitation(self, invitation_id: uuid.UUID | str) -> Invitation:
        body, _ = self._json("GET", f"{INVITATIONS}/{invitation_id}")
        return cast(Invitation, body)

    def resend(self, invitation_id: uuid.UUID | str) -> Invitation:
        body, _ = self._json("POST", f"{INVITATIONS}/{invitation_id}/resend")
        return cast(Invitation, body)

    def revoke(self, invitation_id: uuid.UUID | str) -> Invitation:
        body, _ = self._json("POST", f"{INVITATIONS}/{invitation_id}/revoke")
        return cast(Invitation, body)

    def export(
        self,
        out: IO[bytes],
        *,
        status: str | None = None,
        evaluation: str | None = None,
        email: str | None = None,
    ) -> int:
        """Stream the CSV export into ``out``; returns the number of bytes written."""
        params = _drop_none({"status": status, "evaluation": evaluation, "email": email})
        written = 0
        with self._send(
            "GET",
            f"{INVITATIONS}/export",
            params=params,
            headers={"Accept": "text/csv"},
            stream=True,
        ) as response:
            try:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    out.write(chunk)
                    written += len(chunk)
            except requests.RequestException as exc:
                raise unreachable(self.base_url, exc, self._timeout) from None
        return written
