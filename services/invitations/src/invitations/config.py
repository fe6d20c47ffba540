"""Settings of the invitations service, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.runtime.keyfiles import service_key
from contracts.runtime.settings import ServiceSettings

SERVICE = "invitations"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    #: HMAC key of the code digests; a file, generated under var/ outside production
    code_key: bytes
    bulk_max_rows: int
    bulk_max_bytes: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls.for_service(load_settings(env), env)

    @classmethod
    def for_service(
        cls, service: ServiceSettings, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """The invitation settings around common ones already read (as the repository's
        tests build every service's app from a ServiceSettings)."""
        env = os.environ if environ is None else environ
        key = service_key(service, env, "INVITATION_CODE_KEY_FILE", "invitation-code.key")
        return cls(
            service=service,
            code_key=key,
            bulk_max_rows=int(env.get("INVITATIONS_BULK_MAX_ROWS", 10_000)),
            bulk_max_bytes=int(env.get("INVITATIONS_BULK_MAX_BYTES", 5 * 1024 * 1024)),
        )
