"""The sign-in partners an operator turns on (DESIGN section 9): for each of Microsoft and
Google, ``OIDC_<PROVIDER>_ISSUER`` (the real one unless set), ``_CLIENT_ID`` and
``_CLIENT_SECRET``. A partner with no client id is off."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from contracts.events.internal import PARTNER_CALLBACK_PATH, PROVIDERS
from contracts.runtime.settings import ConfigurationError

DEFAULT_ISSUERS = {
    "microsoft": "https://login.microsoftonline.com/common/v2.0",
    "google": "https://accounts.google.com",
}

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Partner:
    provider: str
    issuer: str
    client_id: str
    client_secret: str = ""

    def redirect_uri(self, public_url: str) -> str:
        return public_url.rstrip("/") + PARTNER_CALLBACK_PATH.format(provider=self.provider)


def read_partners(env: Mapping[str, str]) -> dict[str, Partner]:
    """The partners turned on, by provider name."""
    partners = {}
    for provider in PROVIDERS:
        prefix = f"OIDC_{provider.upper()}_"
        client_id = env.get(prefix + "CLIENT_ID", "").strip()
        if not client_id:
            continue
        issuer = env.get(prefix + "ISSUER", "").strip().rstrip("/") or DEFAULT_ISSUERS[provider]
        _check_issuer(prefix + "ISSUER", issuer)
        secret = env.get(prefix + "CLIENT_SECRET", "")
        if not secret:
            raise ConfigurationError(f"{prefix}CLIENT_ID is set: set {prefix}CLIENT_SECRET too")
        partners[provider] = Partner(provider, issuer, client_id, secret)
    return partners


def _check_issuer(name: str, issuer: str) -> None:
    """HTTPS only, but for a test provider on this machine, which oauthlib itself lets
    through only with ``OAUTHLIB_INSECURE_TRANSPORT=1``."""
    url = urlsplit(issuer)
    if url.scheme == "https" and url.hostname:
        return
    if url.scheme == "http" and url.hostname in LOOPBACK_HOSTS:
        if os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
            return
        raise ConfigurationError(
            f"{name} is plain HTTP: allowed for a provider on this machine only, with "
            "OAUTHLIB_INSECURE_TRANSPORT=1"
        )
    raise ConfigurationError(f"{name} must be an https:// address, not {issuer!r}")
