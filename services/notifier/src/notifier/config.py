"""Settings of the notifier, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.web.settings import ConfigurationError, ServiceSettings

SERVICE = "notifier"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing mail goes (DESIGN section 4): the dev mailbox by default."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    mail_from: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ
        try:
            port = int(env.get("SMTP_PORT", "1025"))
        except ValueError:
            raise ConfigurationError("SMTP_PORT must be a number") from None
        settings = cls(
            host=env.get("SMTP_HOST", "127.0.0.1"),
            port=port,
            username=env.get("SMTP_USERNAME") or None,
            password=env.get("SMTP_PASSWORD") or None,
            starttls=env.get("SMTP_STARTTLS", "0").lower() in ("1", "true", "yes"),
            mail_from=env.get("MAIL_FROM", "Nexam <no-reply@nexam.localhost>"),
        )
        if env.get("NEXAM_ENV") == "prod" and settings.username and not settings.starttls:
            raise ConfigurationError("SMTP_STARTTLS must be on to send a password in production")
        return settings
