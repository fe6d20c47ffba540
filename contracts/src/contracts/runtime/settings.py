"""Settings common to every service, read once from the environment (DESIGN section 4)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self
from urllib.parse import unquote, urlsplit

ENVIRONMENTS = ("dev", "test", "prod")

PORTS = {
    "gateway": 8000,
    "identity": 8001,
    "invitations": 8002,
    "notifier": 8003,
    "exams": 8004,
    "devicecheck": 8005,
}
#: each worker serves its /metrics on the web port + 1000
WORKER_METRICS_OFFSET = 1000

TOKEN_AUDIENCE = "nexam"


class ConfigurationError(RuntimeError):
    """A setting is missing or unsafe for the environment."""


@dataclass(frozen=True)
class ServiceSettings:
    service: str
    env: str
    var_dir: Path
    database_url: str
    bus_url: str
    bus_namespace: str
    public_url: str
    jwks_url: str
    token_audience: str
    port: int
    worker_metrics_port: int
    bind_host: str
    #: the key file that seals sensitive event fields (``BUS_SEAL_KEY_FILE``), shared by
    #: every service; empty outside production: generated under ``var/keys``
    bus_seal_key_file: str = ""

    @property
    def token_issuer(self) -> str:
        return self.public_url

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        env_vars = os.environ if environ is None else environ
        env = env_vars.get("NEXAM_ENV", "dev")
        if env not in ENVIRONMENTS:
            raise ConfigurationError(f"NEXAM_ENV must be one of {', '.join(ENVIRONMENTS)}")
        var_dir = Path(env_vars.get("NEXAM_VAR_DIR", "var")).absolute()
        prefix = service.upper()
        port = int(env_vars.get(f"{prefix}_PORT", PORTS[service]))
        gateway = env_vars.get("GATEWAY_URL", f"http://127.0.0.1:{PORTS['gateway']}")
        settings = cls(
            service=service,
            env=env,
            var_dir=var_dir,
            database_url=env_vars.get(
                f"{prefix}_DATABASE_URL", f"sqlite:///{var_dir / f'{service}.db'}"
            ),
            bus_url=env_vars.get("BUS_URL", "filesystem://"),
            bus_namespace=env_vars.get("BUS_NAMESPACE", ""),
            public_url=env_vars.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            jwks_url=env_vars.get("GATEWAY_JWKS_URL", f"{gateway}/.well-known/jwks.json"),
            token_audience=env_vars.get("TOKEN_AUDIENCE", TOKEN_AUDIENCE),
            port=port,
            worker_metrics_port=int(
                env_vars.get(f"{prefix}_WORKER_METRICS_PORT", port + WORKER_METRICS_OFFSET)
            ),
            bind_host=env_vars.get("BIND_HOST", "127.0.0.1"),
            bus_seal_key_file=env_vars.get("BUS_SEAL_KEY_FILE", ""),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse, in production, the defaults that are only fit for a laptop."""
        if self.env != "prod":
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append(f"{self.service.upper()}_DATABASE_URL must name a real database")
        problems.extend(production_bus_problems(self.bus_url))
        if not self.public_url.startswith("https://"):
            problems.append("PUBLIC_URL must be https://")
        if problems:
            raise ConfigurationError("; ".join(problems))


#: the account RabbitMQ creates on install, and what kombu sends when the URL names no user
BROKER_DEFAULT_USER = "guest"


def production_bus_problems(bus_url: str) -> list[str]:
    """Why ``bus_url`` is unfit for production: not RabbitMQ, or RabbitMQ with its default
    ``guest`` account (kombu uses guest/guest for whatever the URL leaves out). Never quotes
    the URL, which may carry a password."""
    if not bus_url.startswith(("amqp://", "amqps://")):
        return ["BUS_URL must be an amqp:// address"]
    # kombu takes "url;url" as fail-over addresses: each is checked
    for address in bus_url.split(";"):
        parts = urlsplit(address.strip())
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        if not user or not password or user == BROKER_DEFAULT_USER:
            return [
                "BUS_URL must not use the broker's default guest account: give it a user "
                "and a password of its own"
            ]
    return []


class OwnSettings:
    """A service's settings: the common ones (``service``) and what it reads of its own.

    A service's ``config.Settings`` is a frozen dataclass whose first field is
    ``service: ServiceSettings``, with ``name`` set and ``read`` written; ``from_env`` and
    ``for_service`` are the same for every service."""

    #: the service's name, which its environment variables start with
    name: ClassVar[str]

    @classmethod
    def common(cls, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        return ServiceSettings.from_env(cls.name, environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        return cls.for_service(cls.common(env), env)

    @classmethod
    def for_service(
        cls, service: ServiceSettings, environ: Mapping[str, str] | None = None
    ) -> Self:
        """The service's settings around common ones already read."""
        return cls.read(service, os.environ if environ is None else environ)

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Self:
        raise NotImplementedError


def env_number(env: Mapping[str, str], name: str, default: float, *, least: float) -> float:
    """``name`` from ``env`` as a finite number of at least ``least``; ``default`` if unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if not least <= value < math.inf:  # NaN fails this too
        raise ConfigurationError(f"{name} must be a number of at least {least:g}, not {raw!r}")
    return value


def env_whole(env: Mapping[str, str], name: str, default: int, *, least: int) -> int:
    """The same for a whole number."""
    value = env_number(env, name, default, least=least)
    if not value.is_integer():
        raise ConfigurationError(f"{name} must be a whole number, not {env.get(name)!r}")
    return int(value)
