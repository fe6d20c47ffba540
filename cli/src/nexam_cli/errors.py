"""Every failure as a :class:`NexamError` whose message can be shown as it is: the API's own
answers, no answer at all, refused credentials. Addresses are shown without their user info."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests


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
