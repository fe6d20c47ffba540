"""What the pages ask of the services: identity's public API, as any client would, and the
candidate's tokens, which the gateway mints itself. A service that is down or slow becomes
an answer the page can show, never an exception."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import request

from contracts.runtime.errors import ApiError
from gateway.identity import IdentityClient
from gateway.proxy import ServiceProxy
from gateway.sessions import CandidateTokens, IssuedTokens, signed_in_session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        value = self.body.get("error")
        return value if isinstance(value, str) else None

    @property
    def message(self) -> str:
        value = self.body.get("message")
        return value if isinstance(value, str) else ""


UNAVAILABLE = Answer(503, {"error": "service_unavailable", "message": ""})


def _answer(response: requests.Response) -> Answer:
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    retry = response.headers.get("Retry-After", "")
    return Answer(
        response.status_code,
        body if isinstance(body, dict) else {"items": body},
        int(retry) if retry.isdigit() else None,
    )


class Backend:
    def __init__(
        self, proxy: ServiceProxy, identity: IdentityClient, tokens: CandidateTokens
    ) -> None:
        self.proxy = proxy
        self.identity_client = identity
        self.tokens = tokens

    def _headers(self, language: str, bearer: str | None) -> dict[str, str]:
        headers = {
            "Accept-Language": language,
            "X-Forwarded-For": self.proxy.client_address(request),
        }
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        language: str,
        json: Mapping[str, Any] | None = None,
        bearer: str | None = None,
    ) -> Answer:
        try:
            response = self.proxy.http.request(
                method,
                self.proxy.service_urls[service] + path,
                json=json,
                headers=self._headers(language, bearer),
                timeout=self.proxy.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning("%s %s on %s failed: %s", method, path, service, exc)
            return UNAVAILABLE
        return _answer(response)

    def relay(
        self,
        service: str,
        method: str,
        path: str,
        *,
        language: str,
        bearer: str,
        query: str = "",
        data: bytes = b"",
        content_type: str | None = None,
    ) -> requests.Response | None:
        """A page script's call, passed on as it is (a PDF, a download): None when the
        service cannot be reached."""
        headers = self._headers(language, bearer)
        if content_type:
            headers["Content-Type"] = content_type
        target = self.proxy.service_urls[service] + path + (f"?{query}" if query else "")
        try:
            return self.proxy.http.request(
                method,
                target,
                data=data,
                headers=headers,
                timeout=self.proxy.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning("%s %s on %s failed: %s", method, path, service, exc)
            return None

    def internal(
        self,
        method: str,
        path: str,
        *,
        language: str,
        json: Mapping[str, Any] | None = None,
    ) -> Answer:
        """A call to identity's internal API under the gateway's own token."""
        try:
            if method == "GET":
                response = self.identity_client.get(path, request, language=language)
            else:
                response = self.identity_client.post(path, json or {}, request, language=language)
        except ApiError:
            return UNAVAILABLE
        return _answer(response)

    def partner_sign_in(
        self, provider: str, body: dict[str, str], language: str
    ) -> IssuedTokens | Answer:
        """Identity checks what the partner sent back; the gateway mints the tokens, as
        after the emailed code."""
        return self._tokens(f"/internal/v1/partners/{provider}/sign-in", body, language)

    def open_session(self, challenge_id: str, code: str) -> IssuedTokens | Answer:
        return self._tokens("/internal/v1/sessions", {"challenge_id": challenge_id, "code": code})

    def refresh(self, refresh_token: str) -> IssuedTokens | Answer:
        return self._tokens("/internal/v1/sessions/refresh", {"refresh_token": refresh_token})

    def _tokens(
        self, path: str, body: dict[str, str], language: str | None = None
    ) -> IssuedTokens | Answer:
        try:
            response = self.identity_client.post(path, body, request, language=language)
        except ApiError:
            return UNAVAILABLE
        if response.status_code not in (200, 201):
            return _answer(response)
        try:
            return self.tokens.mint(signed_in_session(response))
        except ApiError as exc:
            return Answer(exc.status, {"error": exc.error, "message": exc.message})
