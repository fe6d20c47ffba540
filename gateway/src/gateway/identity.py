"""Calls to identity's internal API (``/internal/v1``). Identity trusts them through a
short-lived token the gateway signs for itself (role ``gateway``); the caller's language and
address go along, so that identity can answer in the right language and throttle by address."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import Request
from marshmallow import ValidationError

from contracts.events.internal import ApiClientSchema, SignedInSchema
from contracts.runtime.errors import ApiError
from gateway.proxy import ServiceProxy
from gateway.tokens import TokenMinter

log = logging.getLogger(__name__)

#: how long the gateway's own token for calling identity lives
SERVICE_TOKEN_LIFETIME = timedelta(seconds=60)
#: how long the gateway waits for identity's list of the sessions ended lately
LIST_TIMEOUT_SECONDS = 10.0


class IdentityClient:
    def __init__(self, base_url: str, minter: TokenMinter, proxy: ServiceProxy) -> None:
        self.base_url = base_url.rstrip("/")
        self.minter = minter
        self.proxy = proxy

    def service_token(self) -> str:
        return self.minter.mint(
            subject="gateway",
            roles=["gateway"],
            institution=None,
            amr=["service"],
            lifetime=SERVICE_TOKEN_LIFETIME,
        )

    def ended_sessions(self, within: timedelta) -> list[tuple[str, datetime]]:
        """The sessions identity ended in the last ``within``, as (session id, when). Raises
        ``requests.RequestException`` or ``ValueError`` without a usable answer."""
        answer = self.proxy.http.get(
            f"{self.base_url}/internal/v1/sessions/ended",
            params={"within_seconds": max(1, int(within.total_seconds()))},
            headers={"Authorization": f"Bearer {self.service_token()}"},
            # the thread that asks also reads the bus: it must not wait long
            timeout=(self.proxy.timeout[0], LIST_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        answer.raise_for_status()
        try:
            return [
                (str(uuid.UUID(item["session_id"])), _moment(item["ended_at"]))
                for item in answer.json()["sessions"]
            ]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"identity's list of ended sessions is not usable: {exc}") from None

    def post(
        self,
        path: str,
        body: Mapping[str, Any],
        caller: Request,
        *,
        language: str | None = None,
    ) -> requests.Response:
        """POST ``body`` as JSON to identity's ``path`` on behalf of ``caller``. Raises an
        ``ApiError`` (503, 504 or 502) when identity gives no HTTP answer at all; any answer,
        error statuses included, is returned for the caller to judge. ``language``, when
        given, is what identity answers in instead of the caller's Accept-Language (a page
        whose visitor chose a language)."""
        return self._send("POST", path, caller, language, json=dict(body))

    def get(self, path: str, caller: Request, *, language: str | None = None) -> requests.Response:
        """GET identity's ``path`` on behalf of ``caller``, as ``post`` does."""
        return self._send("GET", path, caller, language)

    def _send(
        self,
        method: str,
        path: str,
        caller: Request,
        language: str | None,
        json: dict[str, Any] | None = None,
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self.service_token()}",
            "X-Forwarded-For": self.proxy.client_address(caller),
            "X-Request-ID": caller.headers.get("X-Request-ID") or str(uuid.uuid4()),
        }
        language = language or caller.headers.get("Accept-Language")
        if language:
            headers["Accept-Language"] = language
        try:
            return self.proxy.http.request(
                method,
                self.base_url + path,
                json=json,
                headers=headers,
                timeout=self.proxy.timeout,
                allow_redirects=False,
            )
        except requests.ReadTimeout:
            log.warning("identity did not answer %s %s in time", method, path)
            raise ApiError(
                504, "gateway_timeout", "Sign-in did not answer in time. Try again."
            ) from None
        except requests.ConnectionError:  # ConnectTimeout included
            log.warning("identity is not reachable for %s %s", method, path)
            unavailable = ApiError(
                503, "service_unavailable", "Sign-in is unavailable. Try again shortly."
            )
            unavailable.headers["Retry-After"] = "5"
            raise unavailable from None
        except requests.RequestException as exc:
            log.warning("%s %s to identity failed: %s", method, path, exc)
            raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.") from None


def load_signed_in(body: Any) -> dict[str, Any]:
    """Identity's answer to a sign-in or a refresh, by its contract. Raises ``ValueError``
    when it is not usable."""
    return _load(SignedInSchema(), body, "session answer")


def load_api_client(body: Any) -> dict[str, Any]:
    """Identity's answer to a client-credentials check, by its contract. Raises
    ``ValueError`` when it is not usable."""
    return _load(ApiClientSchema(), body, "API client answer")


def _load(schema: SignedInSchema | ApiClientSchema, body: Any, what: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        raise ValueError(f"{what}: {exc.messages}") from None
    return loaded


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
