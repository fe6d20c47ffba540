"""Settings of the invitations service, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.runtime.keyfiles import service_key
from contracts.runtime.settings import OwnSettings, ServiceSettings

SERVICE = "invitations"


@dataclass(frozen=True)
class Settings(OwnSettings):
    name = SERVICE

    service: ServiceSettings
    #: HMAC key of the code digests; a file, generated under var/ outside production
    code_key: bytes
    bulk_max_rows: int
    bulk_max_bytes: int

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Settings:
        key = service_key(service, env, "INVITATION_CODE_KEY_FILE", "invitation-code.key")
        return cls(
            service=service,
            code_key=key,
            bulk_max_rows=int(env.get("INVITATIONS_BULK_MAX_ROWS", 10_000)),
            bulk_max_bytes=int(env.get("INVITATIONS_BULK_MAX_BYTES", 5 * 1024 * 1024)),
        )
