"""Forwarding public API calls to the owning service over pooled HTTP with timeouts. A service
that is down or slow gives a JSON 503/504 at once, never a hang."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests
from flask import Request, Response
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from contracts.runtime.errors import error_response

log = logging.getLogger(__name__)

# RFC 9110 section 7.6.1, plus the headers the proxy sets itself
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


# what may appear unencoded in a path segment (RFC 3986 section 3.3), besides unreserved ones
PATH_SAFE = "/:@!$&'()*+,;="


#: RFC 9110 section 9.2.2
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class RetryOnReset(Retry):
    """Once, at once, for an idempotent request whose pooled connection the service closed
    as the request went out (its keep-alive ended at that moment): the request is sent again
    on a new connection. A refused connection, a POST, or a service slow to answer is not
    tried again: the first is down, the second may have acted, the third would only double
    the caller's wait."""

    def __init__(self, **kwargs: Any) -> None:
        defaults: dict[str, Any] = {
            "total": 1,
            "connect": 0,
            "read": 1,
            "other": 0,
            "status": 0,
            "redirect": 0,
            "allowed_methods": IDEMPOTENT,
            "raise_on_status": False,
            "respect_retry_after_header": False,
        }
        super().__init__(**{**defaults, **kwargs})

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> RetryOnReset:
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _hop_by_hop(listed_in_connection: list[str]) -> frozenset[str]:
    """The fixed hop-by-hop names plus those a message lists in its Connection header."""
    named = {n.strip().lower() for value in listed_in_connection for n in value.split(",")}
    return HOP_BY_HOP | named


class ServiceProxy:
    def __init__(
        self,
        service_urls: Mapping[str, str],
        *,
        connect_timeout: float,
        read_timeout: float,
        trusted_proxies: int = 0,
        pool_size: int = 32,
    ) -> None:
        self.service_urls = dict(service_urls)
        self.timeout = (connect_timeout, read_timeout)
        self.trusted_proxies = trusted_proxies
        self.http = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=len(service_urls),
            pool_maxsize=pool_size,
            max_retries=RetryOnReset(),
        )
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.trust_env = False  # never route internal calls through an environment proxy

    def client_address(self, request: Request) -> str:
        """The caller's address: X-Forwarded-For is believed only through trusted proxies."""
        remote = request.remote_addr or ""
        if self.trusted_proxies <= 0:
            return remote
        chain = [
            a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()
        ]
        chain.append(remote)
        index = max(len(chain) - 1 - self.trusted_proxies, 0)
        return chain[index]

    def forward(self, service: str, request: Request) -> Response:
        # the path is re-encoded: WSGI hands it over decoded, and a decoded "?" or "#" would
        # change what the service receives
        target = self.service_urls[service] + quote(request.path, safe=PATH_SAFE)
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        dropped = _hop_by_hop(request.headers.getlist("Connection"))
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {k: v for k, v in request.headers.items() if k.lower() not in dropped}
        )
        headers["X-Forwarded-For"] = self.client_address(request)
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-Host"] = request.host
        headers.setdefault("X-Request-ID", str(uuid.uuid4()))
        try:
            upstream = self.http.request(
                request.method,
                target,
                headers=headers,
                data=request.get_data(),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            return self._unavailable(service, "did not accept the connection in time")
        except requests.ReadTimeout:
            log.warning("%s did not answer %s %s in time", service, request.method, request.path)
            return error_response(
                504, "gateway_timeout", f"The {service} service did not answer in time."
            )
        except requests.ConnectionError:
            return self._unavailable(service, "is not reachable")
        except requests.RequestException as exc:
            log.warning("forwarding to %s failed: %s", service, exc)
            return error_response(
                502, "bad_gateway", f"The {service} service gave no valid answer."
            )
        dropped = _hop_by_hop(upstream.raw.headers.getlist("Connection"))
        # given to the constructor, so the upstream's Content-Type replaces Flask's default
        # instead of being added next to it
        forwarded = [(n, v) for n, v in upstream.raw.headers.items() if n.lower() not in dropped]
        return Response(upstream.content, status=upstream.status_code, headers=forwarded)

    def _unavailable(self, service: str, why: str) -> Response:
        log.warning("%s %s", service, why)
        response = error_response(
            503, "service_unavailable", f"The {service} service is unavailable. Try again shortly."
        )
        response.headers["Retry-After"] = "5"
        return response
