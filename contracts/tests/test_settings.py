"""Settings every service reads from its environment (DESIGN section 4): embedded defaults that
run on a laptop, overrides, and production refusing the laptop defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.bus.connection import BusAddress
from contracts.runtime.settings import ConfigurationError, ServiceSettings

#: DESIGN section 4: "gateway 8000, identity 8001, invitations 8002, notifier 8003, exams 8004,
#: devicecheck 8005"
DESIGN_PORTS = {
    "identity": 8001,
    "invitations": 8002,
    "notifier": 8003,
    "exams": 8004,
    "devicecheck": 8005,
}


def production(service: str = "invitations", **overrides: str) -> dict[str, str]:
    env = {
        "NEXAM_ENV": "prod",
        f"{service.upper()}_DATABASE_URL": "postgresql+psycopg://nexam:pw@db.internal/invitations",
        "BUS_URL": "amqps://nexam:pw@rabbit.internal:5671/nexam",
        "PUBLIC_URL": "https://exams.example.org",
        "GATEWAY_URL": "http://gateway.internal:8000",
    }
    env.update(overrides)
    return env


@pytest.mark.parametrize(("service", "port"), sorted(DESIGN_PORTS.items()))
def test_defaults_run_embedded(
    service: str, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = ServiceSettings.from_env(service, {})

    assert settings.service == service
    assert settings.env == "dev"
    assert settings.var_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / f'{service}.db'}"
    assert settings.bus_url == "filesystem://"
    assert BusAddress(settings.bus_url, settings.var_dir).folder == tmp_path / "var" / "bus"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.token_issuer == "http://127.0.0.1:8000"
    assert settings.jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert settings.token_audience == "nexam"
    assert settings.port == port
    assert settings.worker_metrics_port == port + 1000


def test_defaults_read_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMS_WORKER_METRICS_PORT", raising=False)
    monkeypatch.setenv("EXAMS_PORT", "18004")
    monkeypatch.setenv("NEXAM_ENV", "test")
    settings = ServiceSettings.from_env("exams")
    assert (settings.env, settings.port, settings.worker_metrics_port) == ("test", 18004, 19004)


def test_environment_overrides(tmp_path: Path) -> None:
    settings = ServiceSettings.from_env(
        "notifier",
        {
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(tmp_path / "state"),
            "NOTIFIER_DATABASE_URL": "postgresql+psycopg://u@localhost/notifier",
            "IDENTITY_DATABASE_URL": "sqlite:///not-mine.db",
            "BUS_URL": "amqp://guest:guest@localhost:5672//",
            "PUBLIC_URL": "https://exams.example.org/",
            "GATEWAY_URL": "http://gateway:8000",
            "TOKEN_AUDIENCE": "nexam-staging",
            "NOTIFIER_PORT": "9103",
        },
    )

    assert settings.env == "test"
    assert settings.var_dir == tmp_path / "state"
    assert settings.database_url == "postgresql+psycopg://u@localhost/notifier"
    assert settings.bus_url == "amqp://guest:guest@localhost:5672//"
    assert settings.public_url == "https://exams.example.org"  # no trailing slash
    assert settings.token_issuer == "https://exams.example.org"
    assert settings.jwks_url == "http://gateway:8000/.well-known/jwks.json"
    assert settings.token_audience == "nexam-staging"
    assert settings.port == 9103
    assert settings.worker_metrics_port == 10103


def test_a_relative_var_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = ServiceSettings.from_env("identity", {"NEXAM_VAR_DIR": "data/here"})
    assert settings.var_dir == tmp_path / "data" / "here"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'here' / 'identity.db'}"


def test_explicit_jwks_url_and_worker_metrics_port() -> None:
    settings = ServiceSettings.from_env(
        "devicecheck",
        {
            "GATEWAY_JWKS_URL": "http://keys.internal/jwks.json",
            "GATEWAY_URL": "http://ignored:1",
            "DEVICECHECK_WORKER_METRICS_PORT": "9999",
        },
    )
    assert settings.jwks_url == "http://keys.internal/jwks.json"
    assert settings.port == 8005
    assert settings.worker_metrics_port == 9999


@pytest.mark.parametrize("value", ["production", "PROD", "", "staging"])
def test_an_unknown_environment_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="NEXAM_ENV"):
        ServiceSettings.from_env("identity", {"NEXAM_ENV": value})


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_accept_the_embedded_defaults(env: str, tmp_path: Path) -> None:
    settings = ServiceSettings.from_env(
        "identity", {"NEXAM_ENV": env, "NEXAM_VAR_DIR": str(tmp_path)}
    )
    assert settings.database_url.startswith("sqlite:///")
    assert settings.bus_url == "filesystem://"


def test_prod_accepts_a_full_production_configuration() -> None:
    settings = ServiceSettings.from_env("invitations", production())
    assert settings.env == "prod"
    assert settings.database_url == "postgresql+psycopg://nexam:pw@db.internal/invitations"
    assert settings.bus_url == "amqps://nexam:pw@rabbit.internal:5671/nexam"
    assert settings.token_issuer == "https://exams.example.org"
    assert settings.jwks_url == "http://gateway.internal:8000/.well-known/jwks.json"


def test_prod_accepts_plain_amqp_too() -> None:
    url = "amqp://nexam:pw@rabbit//"
    settings = ServiceSettings.from_env("invitations", production(BUS_URL=url))
    assert settings.bus_url == url


@pytest.mark.parametrize(
    "database_url", [None, "sqlite:////srv/nexam/invitations.db", "sqlite+pysqlite:///x.db"]
)
def test_prod_refuses_sqlite(database_url: str | None) -> None:
    env = production()
    if database_url is None:
        del env["INVITATIONS_DATABASE_URL"]  # the embedded default
    else:
        env["INVITATIONS_DATABASE_URL"] = database_url
    with pytest.raises(ConfigurationError, match="INVITATIONS_DATABASE_URL"):
        ServiceSettings.from_env("invitations", env)


@pytest.mark.parametrize(
    "bus_url", [None, "filesystem://", "filesystem:///srv/bus", "redis://cache:6379/0", "memory://"]
)
def test_prod_refuses_a_bus_that_is_not_amqp(bus_url: str | None) -> None:
    env = production()
    if bus_url is None:
        del env["BUS_URL"]
    else:
        env["BUS_URL"] = bus_url
    with pytest.raises(ConfigurationError, match="BUS_URL"):
        ServiceSettings.from_env("invitations", env)


@pytest.mark.parametrize("public_url", [None, "http://exams.example.org", "exams.example.org"])
def test_prod_refuses_a_public_url_that_is_not_https(public_url: str | None) -> None:
    env = production()
    if public_url is None:
        del env["PUBLIC_URL"]
    else:
        env["PUBLIC_URL"] = public_url
    with pytest.raises(ConfigurationError, match="PUBLIC_URL"):
        ServiceSettings.from_env("invitations", env)


def test_prod_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ServiceSettings.from_env("exams", {"NEXAM_ENV": "prod"})
    message = str(refused.value)
    for setting in ("EXAMS_DATABASE_URL", "BUS_URL", "PUBLIC_URL"):
        assert setting in message


@pytest.mark.parametrize(
    "bus_url",
    [
        "amqp://guest:guest@rabbit.internal:5672//",
        "amqps://guest:guest@rabbit.internal:5671/nexam",
        "amqp://gu%65st:guest@rabbit.internal//",
        # no credentials, or a user without a password: kombu fills in guest/guest
        "amqp://rabbit.internal//",
        "amqp://rabbit.internal:5672/nexam",
        "amqp://nexam@rabbit.internal//",
        "amqp://nexam:@rabbit.internal//",
        # a fail-over list is as weak as its weakest address
        "amqp://nexam:pw@rabbit-a.internal//;amqp://guest:guest@rabbit-b.internal//",
    ],
)
def test_prod_refuses_the_brokers_default_guest_credentials(bus_url: str) -> None:
    with pytest.raises(ConfigurationError, match="BUS_URL") as refused:
        ServiceSettings.from_env("invitations", production(BUS_URL=bus_url))
    assert "guest" in str(refused.value)
    assert "rabbit" not in str(refused.value)  # no address, so no password, in the message


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_may_use_the_guest_account(env: str) -> None:
    url = "amqp://guest:guest@127.0.0.1:5672//"
    settings = ServiceSettings.from_env("invitations", production(NEXAM_ENV=env, BUS_URL=url))
    assert settings.bus_url == url
