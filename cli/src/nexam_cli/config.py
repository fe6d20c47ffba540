"""Where the tool connects and with what: ``NEXAM_URL``, and ``NEXAM_TOKEN`` or
``NEXAM_CLIENT_ID`` + ``NEXAM_CLIENT_SECRET``, read when a command first needs them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from nexam_cli.errors import CredentialsProblem, NexamError, display_url

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ConfigProblem(NexamError):
    """A setting the tool cannot work with."""


@dataclass(frozen=True)
class Credentials:
    """Either a bearer token, or an API client's id and secret; secrets stay out of repr."""

    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)


def read_credentials(environ: Mapping[str, str]) -> Credentials:
    """``NEXAM_TOKEN`` wins when set; otherwise both client-credential variables are needed."""
    token = environ.get("NEXAM_TOKEN", "").strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer ") :].strip()
    if token:
        return Credentials(token=token)
    client_id = environ.get("NEXAM_CLIENT_ID", "").strip()
    client_secret = environ.get("NEXAM_CLIENT_SECRET", "").strip()
    if client_id and client_secret:
        return Credentials(client_id=client_id, client_secret=client_secret)
    if client_id or client_secret:
        missing = "NEXAM_CLIENT_SECRET" if client_id else "NEXAM_CLIENT_ID"
        raise CredentialsProblem(
            f"{missing} is not set: NEXAM_CLIENT_ID and NEXAM_CLIENT_SECRET go together."
        )
    raise CredentialsProblem(
        "No credentials: set NEXAM_TOKEN to an access token, or NEXAM_CLIENT_ID and "
        "NEXAM_CLIENT_SECRET to an API client's (`nexam-admin api-client create`)."
    )


def check_url(url: str) -> str:
    """The base address, without a trailing slash; refuses what is not http(s)."""
    url = url.strip().rstrip("/") or DEFAULT_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigProblem(
            f"NEXAM_URL ({display_url(url)}) must be an http:// or https:// address, "
            f"such as {DEFAULT_URL}."
        )
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigProblem(f"NEXAM_URL ({display_url(url)}) has an invalid port.") from None
    return url


def sends_secrets_in_clear(url: str) -> bool:
    """True for plain http to another machine than this one."""
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS
