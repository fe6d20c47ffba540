"""Settings of the identity service, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts.runtime.keyfiles import service_key
from contracts.runtime.settings import ConfigurationError, OwnSettings, ServiceSettings
from identity.partner_config import Partner, read_partners
from identity.terms import Terms

SERVICE = "identity"


@dataclass(frozen=True)
class Settings(OwnSettings):
    name = SERVICE

    service: ServiceSettings
    #: identity keeps its own digest of each invitation code, under its own key
    code_key: bytes
    #: a refresh token presented again this soon after its rotation is the same browser
    refresh_reuse_leeway: timedelta
    terms: Terms
    #: the sign-in partners the operator turned on, by provider
    partners: dict[str, Partner]

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Settings:
        return cls(
            service=service,
            code_key=service_key(service, env, "IDENTITY_CODE_KEY_FILE", "identity-code.key"),
            refresh_reuse_leeway=refresh_reuse_leeway(env),
            terms=Terms.from_env(env),
            partners=read_partners(env),
        )


def refresh_reuse_leeway(env: Mapping[str, str]) -> timedelta:
    """``REFRESH_REUSE_LEEWAY_S`` (DESIGN section 5): 10 s unless set; 0 turns it off."""
    raw = env.get("REFRESH_REUSE_LEEWAY_S", "10")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise ConfigurationError(f"REFRESH_REUSE_LEEWAY_S must be 0 to 60 seconds, not {raw!r}")
    return timedelta(seconds=seconds)
