"""Settings of the identity service, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from contracts.runtime.keyfiles import service_key
from contracts.runtime.settings import ConfigurationError, ServiceSettings

SERVICE = "identity"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)


def code_key(settings: ServiceSettings, environ: Mapping[str, str] | None = None) -> bytes:
    """Identity keeps its own digest of each invitation code, under its own key."""
    env = os.environ if environ is None else environ
    return service_key(settings, env, "IDENTITY_CODE_KEY_FILE", "identity-code.key")


def refresh_reuse_leeway(environ: Mapping[str, str] | None = None) -> timedelta:
    """``REFRESH_REUSE_LEEWAY_S`` (DESIGN section 5): 10 s unless set; 0 turns it off."""
    env = os.environ if environ is None else environ
    raw = env.get("REFRESH_REUSE_LEEWAY_S", "10")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise ConfigurationError(f"REFRESH_REUSE_LEEWAY_S must be 0 to 60 seconds, not {raw!r}")
    return timedelta(seconds=seconds)
