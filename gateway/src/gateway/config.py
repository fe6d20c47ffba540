"""Settings of the gateway, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts.web.settings import (
    ENVIRONMENTS,
    PORTS,
    TOKEN_AUDIENCE,
    ConfigurationError,
)

SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")


@dataclass(frozen=True)
class GatewaySettings:
    env: str
    var_dir: Path
    public_url: str
    signing_key_path: Path
    generate_signing_key: bool
    previous_public_keys: tuple[Path, ...]
    token_audience: str
    access_token_seconds: int
    service_urls: Mapping[str, str]
    connect_timeout: float
    read_timeout: float
    trusted_proxies: int

    @property
    def token_issuer(self) -> str:
        return self.public_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        env_vars = os.environ if environ is None else environ
        env = env_vars.get("NEXAM_ENV", "dev")
        if env not in ENVIRONMENTS:
            raise ConfigurationError(f"NEXAM_ENV must be one of {', '.join(ENVIRONMENTS)}")
        var_dir = Path(env_vars.get("NEXAM_VAR_DIR", "var")).absolute()
        key_path = env_vars.get("GATEWAY_SIGNING_KEY")
        if env == "prod" and not key_path:
            raise ConfigurationError("GATEWAY_SIGNING_KEY must name the Ed25519 private key file")
        public_url = env_vars.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
        if env == "prod" and not public_url.startswith("https://"):
            raise ConfigurationError("PUBLIC_URL must be https://")
        previous = env_vars.get("GATEWAY_PREVIOUS_PUBLIC_KEYS", "")
        return cls(
            env=env,
            var_dir=var_dir,
            public_url=public_url,
            signing_key_path=Path(key_path)
            if key_path
            else var_dir / "keys" / "gateway-ed25519.pem",
            generate_signing_key=not key_path,
            previous_public_keys=tuple(Path(p.strip()) for p in previous.split(",") if p.strip()),
            token_audience=env_vars.get("TOKEN_AUDIENCE", TOKEN_AUDIENCE),
            access_token_seconds=int(env_vars.get("ACCESS_TOKEN_SECONDS", 15 * 60)),
            service_urls={
                name: env_vars.get(f"{name.upper()}_URL", f"http://127.0.0.1:{PORTS[name]}").rstrip(
                    "/"
                )
                for name in SERVICES
            },
            connect_timeout=float(env_vars.get("GATEWAY_CONNECT_TIMEOUT", 2)),
            read_timeout=float(env_vars.get("GATEWAY_READ_TIMEOUT", 30)),
            trusted_proxies=int(env_vars.get("TRUSTED_PROXIES", 0)),
        )
