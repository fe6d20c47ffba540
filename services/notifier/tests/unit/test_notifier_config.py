"""The notifier's settings: embedded defaults, overrides, and values refused at start-up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from contracts.runtime.settings import ConfigurationError, ServiceSettings
from notifier.config import Settings


def environ(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"NEXAM_VAR_DIR": str(tmp_path), **values}


def test_the_defaults_run_on_a_laptop(tmp_path: Path) -> None:
    settings = Settings.from_env(environ(tmp_path))

    assert settings.platform_name == "Nexam"
    assert settings.support_email == "support@nexam.localhost"
    assert settings.smtp.host == "127.0.0.1" and settings.smtp.port == 1025
    assert settings.smtp.mail_from == "Nexam <no-reply@nexam.localhost>"
    assert settings.smtp.envelope_sender == "no-reply@nexam.localhost"
    assert settings.smtp.sender_domain == "nexam.localhost"
    assert settings.retry.first_delay == timedelta(seconds=30)
    assert settings.retry.max_delay == timedelta(minutes=10)
    assert settings.retry.give_up_after == timedelta(hours=2)
    assert settings.batch_size == 100
    assert settings.delivery_interval == 0.5
    assert settings.service.public_url == "http://127.0.0.1:8000"


def test_load_settings_is_still_the_common_service_settings(tmp_path: Path) -> None:
    settings = Settings.common(environ(tmp_path))

    assert isinstance(settings, ServiceSettings)
    assert settings.service == "notifier" and settings.port == 8003


def test_everything_can_be_set(tmp_path: Path) -> None:
    settings = Settings.from_env(
        environ(
            tmp_path,
            PLATFORM_NAME="Examens UdX",
            SUPPORT_EMAIL="aide@udx.example",
            MAIL_FROM="Examens UdX <examens@udx.example>",
            PUBLIC_URL="https://examens.udx.example/",
            MAIL_RETRY_FIRST_SECONDS="10",
            MAIL_RETRY_MAX_SECONDS="300",
            MAIL_GIVE_UP_AFTER_SECONDS="86400",
            MAIL_BATCH_SIZE="25",
            MAIL_DELIVERY_INTERVAL_SECONDS="2",
            SMTP_TIMEOUT_SECONDS="12.5",
            SMTP_HELO_NAME="worker1.udx.example",
            SMTP_MAX_CONNECTIONS="2",
        )
    )

    assert settings.platform_name == "Examens UdX"
    assert settings.support_email == "aide@udx.example"
    assert settings.smtp.sender_domain == "udx.example"
    assert settings.service.public_url == "https://examens.udx.example"
    assert settings.retry.delay_after(1) == timedelta(seconds=10)
    assert settings.retry.delay_after(10) == timedelta(minutes=5)
    assert settings.retry.give_up_after == timedelta(days=1)
    assert settings.batch_size == 25 and settings.delivery_interval == 2.0
    assert settings.smtp.timeout == 12.5 and settings.smtp.helo_name == "worker1.udx.example"
    assert settings.smtp.max_connections == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"MAIL_BATCH_SIZE": "0"},
        {"MAIL_BATCH_SIZE": "lots"},
        {"MAIL_RETRY_FIRST_SECONDS": "-1"},
        {"MAIL_RETRY_FIRST_SECONDS": "60", "MAIL_RETRY_MAX_SECONDS": "30"},
        {"SMTP_PORT": "seventy"},
        {"SMTP_PORT": "70000"},
        {"MAIL_FROM": "Nexam"},
        {"SMTP_MAX_CONNECTIONS": "0"},
    ],
)
def test_nonsense_is_refused_at_start_up(tmp_path: Path, bad: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(environ(tmp_path, **bad))


def test_production_refuses_a_password_over_plain_smtp(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SMTP_STARTTLS"):
        Settings.from_env(
            environ(
                tmp_path,
                NEXAM_ENV="prod",
                NOTIFIER_DATABASE_URL="postgresql+psycopg://nexam@db/notifier",
                BUS_URL="amqps://nexam:broker-secret@rabbit/",
                PUBLIC_URL="https://exams.example.org",
                SMTP_USERNAME="nexam",
                SMTP_PASSWORD="secret",
            )
        )
