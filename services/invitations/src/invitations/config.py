"""Settings of the invitations service, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping

from contracts.web.settings import ServiceSettings

SERVICE = "invitations"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)
