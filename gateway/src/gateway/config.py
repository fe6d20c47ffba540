"""Settings of the gateway, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from limits import parse_many

from contracts.runtime.settings import (
    ENVIRONMENTS,
    PORTS,
    TOKEN_AUDIENCE,
    ConfigurationError,
    production_bus_problems,
)

SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")

# generous: an exam hall puts hundreds of candidates behind one address within minutes, and
# the real brute-force defence is identity's, per account and per code
DEFAULT_RATE_LIMITS = {
    "RATE_LIMIT_CODE_ENTRY": "300/minute",
    "RATE_LIMIT_SIGN_IN": "600/minute",
    "RATE_LIMIT_FORGOT_PASSWORD": "60/minute",
}


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
    redis_url: str | None
    rate_limit_code_entry: str
    rate_limit_sign_in: str
    rate_limit_forgot_password: str
    session_key_path: Path
    generate_session_key: bool
    support_email: str
    terms_version: str
    privacy_version: str
    #: the bus the gateway hears SessionsEnded on, as the services name it
    bus_url: str
    bus_namespace: str

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
        session_key = env_vars.get("GATEWAY_SESSION_KEY_FILE")
        if env == "prod" and not session_key:
            raise ConfigurationError(
                "GATEWAY_SESSION_KEY_FILE must name the file of the browser sessions' key"
            )
        public_url = env_vars.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
        if env == "prod" and not public_url.startswith("https://"):
            raise ConfigurationError("PUBLIC_URL must be https://")
        bus_url = env_vars.get("BUS_URL", "filesystem://")
        if env == "prod" and production_bus_problems(bus_url):
            raise ConfigurationError("; ".join(production_bus_problems(bus_url)))
        previous = env_vars.get("GATEWAY_PREVIOUS_PUBLIC_KEYS", "")
        limits = {
            name: _rate_limit(env_vars, name, default)
            for name, default in DEFAULT_RATE_LIMITS.items()
        }
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
            redis_url=env_vars.get("REDIS_URL") or None,
            rate_limit_code_entry=limits["RATE_LIMIT_CODE_ENTRY"],
            rate_limit_sign_in=limits["RATE_LIMIT_SIGN_IN"],
            rate_limit_forgot_password=limits["RATE_LIMIT_FORGOT_PASSWORD"],
            session_key_path=Path(session_key)
            if session_key
            else var_dir / "keys" / "gateway-session.key",
            generate_session_key=not session_key,
            support_email=env_vars.get("SUPPORT_EMAIL", "").strip() or "support@nexam.localhost",
            # the same names and defaults as identity's, which asks for these versions
            terms_version=env_vars.get("TERMS_VERSION", "2026-09-01"),
            privacy_version=env_vars.get("PRIVACY_VERSION", "2026-09-01"),
            bus_url=bus_url,
            bus_namespace=env_vars.get("BUS_NAMESPACE", ""),
        )


def _rate_limit(env_vars: Mapping[str, str], name: str, default: str) -> str:
    """A limit in Flask-Limiter's notation ("300/minute"), checked now rather than on the first
    request it would apply to."""
    value = env_vars.get(name, "").strip() or default
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ConfigurationError(f"{name} must be a rate limit such as {default!r}")
    return value
