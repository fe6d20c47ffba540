"""Calls to identity's internal API (``/internal/v1``). Identity trusts them through a
short-lived token the gateway signs for itself (role ``gateway``); the caller's language and
address go along, so that identity can answer in the right language and throttle by address."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests
from flask import Request

from contracts.web.errors import ApiError
from gateway.proxy import ServiceProxy
from gateway.tokens import TokenMinter

log = logging.getLogger(__name__)

#: how long the gateway's own token for calling identity lives
SERVICE_TOKEN_LIFETIME = timedelta(seconds=60)


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

    def post(self, path: str, body: Mapping[str, Any], caller: Request) -> requests.Response:
        """POST ``body`` as JSON to identity's ``path`` on behalf of ``caller``. Raises an
        ``ApiError`` (503, 504 or 502) when identity gives no HTTP answer at all; any answer,
        error statuses included, is returned for the caller to judge."""
        headers = {
            "Authorization": f"Bearer {self.service_token()}",
            "X-Forwarded-For": self.proxy.client_address(caller),
            "X-Request-ID": caller.headers.get("X-Request-ID") or str(uuid.uuid4()),
        }
        language = caller.headers.get("Accept-Language")
        if language:
            headers["Accept-Language"] = language
        try:
            return self.proxy.http.post(
                self.base_url + path,
                json=dict(body),
                headers=headers,
                timeout=self.proxy.timeout,
                allow_redirects=False,
            )
        except requests.ReadTimeout:
            log.warning("identity did not answer POST %s in time", path)
            raise ApiError(
                504, "gateway_timeout", "Sign-in did not answer in time. Try again."
            ) from None
        except requests.ConnectionError:  # ConnectTimeout included
            log.warning("identity is not reachable for POST %s", path)
            unavailable = ApiError(
                503, "service_unavailable", "Sign-in is unavailable. Try again shortly."
            )
            unavailable.headers["Retry-After"] = "5"
            raise unavailable from None
        except requests.RequestException as exc:
            log.warning("POST %s to identity failed: %s", path, exc)
            raise ApiError(502, "bad_gateway", "Sign-in gave no valid answer.") from None
