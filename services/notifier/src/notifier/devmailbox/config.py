"""Settings of the development mailbox, read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    web_host: str = "127.0.0.1"
    web_port: int = 8025
    directory: Path = Path("var/mailbox")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``DEVMAILBOX_*`` variables; raise ``ValueError`` on an invalid port."""
        defaults = cls()
        return cls(
            smtp_host=environ.get("DEVMAILBOX_SMTP_HOST") or defaults.smtp_host,
            smtp_port=_port(environ, "DEVMAILBOX_SMTP_PORT", defaults.smtp_port),
            web_host=environ.get("DEVMAILBOX_WEB_HOST") or defaults.web_host,
            web_port=_port(environ, "DEVMAILBOX_WEB_PORT", defaults.web_port),
            directory=Path(environ.get("DEVMAILBOX_DIR") or defaults.directory),
        )


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a port number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{name} must be between 1 and 65535, got {port}")
    return port
