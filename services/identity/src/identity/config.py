"""Settings of the identity service, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from contracts.web.keyfiles import service_key
from contracts.web.settings import ServiceSettings

SERVICE = "identity"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)


def code_key(settings: ServiceSettings, environ: Mapping[str, str] | None = None) -> bytes:
    """Identity keeps its own digest of each invitation code, under its own key."""
    env = os.environ if environ is None else environ
    return service_key(settings, env, "IDENTITY_CODE_KEY_FILE", "identity-code.key")
