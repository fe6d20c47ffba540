"""Settings of the notifier, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from contracts.runtime.settings import (
    ConfigurationError,
    OwnSettings,
    ServiceSettings,
    env_number,
    env_whole,
)
from notifier.domain import RetryPolicy

SERVICE = "notifier"


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing mail goes (DESIGN section 4): the dev mailbox by default."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    mail_from: str
    timeout: float = 30.0
    #: the name given in EHLO; the sender's domain unless SMTP_HELO_NAME says otherwise
    helo_name: str | None = None
    #: SMTP sessions a delivery round may hold open to the relay at once
    max_connections: int = 4

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.mail_from)[1] or self.mail_from

    @property
    def sender_domain(self) -> str:
        _local, at, domain = self.envelope_sender.rpartition("@")
        return domain if at and domain else "localhost"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ
        settings = cls(
            host=env.get("SMTP_HOST", "127.0.0.1"),
            port=env_whole(env, "SMTP_PORT", 1025, least=1),
            username=env.get("SMTP_USERNAME") or None,
            password=env.get("SMTP_PASSWORD") or None,
            starttls=env.get("SMTP_STARTTLS", "0").lower() in ("1", "true", "yes"),
            mail_from=env.get("MAIL_FROM", "Nexam <no-reply@nexam.localhost>"),
            timeout=env_number(env, "SMTP_TIMEOUT_SECONDS", 30.0, least=0.1),
            helo_name=env.get("SMTP_HELO_NAME") or None,
            max_connections=env_whole(env, "SMTP_MAX_CONNECTIONS", 4, least=1),
        )
        if settings.port > 65535:
            raise ConfigurationError("SMTP_PORT must be a port number")
        if "@" not in settings.envelope_sender:
            raise ConfigurationError("MAIL_FROM must hold an email address")
        if env.get("NEXAM_ENV") == "prod" and settings.username and not settings.starttls:
            raise ConfigurationError("SMTP_STARTTLS must be on to send a password in production")
        return settings


@dataclass(frozen=True)
class Settings(OwnSettings):
    name = SERVICE

    service: ServiceSettings
    smtp: SmtpSettings
    platform_name: str
    support_email: str
    retry: RetryPolicy
    #: messages claimed, sent and recorded together: one commit per batch
    batch_size: int
    #: seconds between two delivery rounds when there is nothing left to send
    delivery_interval: float

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Settings:
        retry = RetryPolicy(
            first_delay=timedelta(
                seconds=env_number(env, "MAIL_RETRY_FIRST_SECONDS", 30.0, least=0.1)
            ),
            max_delay=timedelta(
                seconds=env_number(env, "MAIL_RETRY_MAX_SECONDS", 600.0, least=0.1)
            ),
            give_up_after=timedelta(
                seconds=env_number(env, "MAIL_GIVE_UP_AFTER_SECONDS", 7200.0, least=0)
            ),
        )
        if retry.max_delay < retry.first_delay:
            raise ConfigurationError(
                "MAIL_RETRY_MAX_SECONDS must be at least MAIL_RETRY_FIRST_SECONDS"
            )
        return cls(
            service=service,
            smtp=SmtpSettings.from_env(env),
            platform_name=env.get("PLATFORM_NAME", "").strip() or "Nexam",
            support_email=env.get("SUPPORT_EMAIL", "").strip() or "support@nexam.localhost",
            retry=retry,
            batch_size=env_whole(env, "MAIL_BATCH_SIZE", 100, least=1),
            delivery_interval=env_number(env, "MAIL_DELIVERY_INTERVAL_SECONDS", 0.5, least=0),
        )
