"""A thin client of the public coordinator API (DESIGN section 6): one method per endpoint,
answers as plain JSON dictionaries, and every failure as a :class:`NexamError` whose message
can be shown as it is. Tokens are sent, never shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import IO, Any, TypedDict, cast

import requests

from nexam_cli.auth import TokenSource
from nexam_cli.errors import ApiProblem, unreachable

INVITATIONS = "/api/v1/invitations"


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
    #: how the candidate signs in (password, microsoft, google); empty until activated
    sign_in_methods: list[str]
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
