"""The pytest plugin every test folder uses (loaded by the root ``conftest.py``).

Real services: PostgreSQL and RabbitMQ come from their environment URL first
(``DATABASE_URL``, ``AMQP_URL``), then from testcontainers when a Docker engine answers;
otherwise the test is skipped with the reason, and with ``REQUIRE_REAL_SERVICES=1`` (set in CI)
that skip is a failure.

Tiers, selectable with ``-m``: ``unit`` (a service's ``tests/unit/``: no I/O), ``integration``
(a part's own tests that reach a database, a bus or a server), ``e2e`` (the top-level
``tests/``: the platform across services). A test gets its tier from where it lives.

``oidc_provider`` (the OpenID Connect stand-ins for Google and Microsoft) needs node and
``tests/oidc/node_modules``; without them it is skipped, or fails, likewise.

The background threads of the apps a test module made end with the module.

Also: ``clock`` (a ``TestClock``), ``migrated_database`` (a service's database at its latest
schema, on SQLite and on PostgreSQL), and ``example_event`` for events."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text

from contracts.runtime import background
from contracts.runtime.migrations import upgrade
from contracts.testing.clock import TestClock
from contracts.testing.oidc import REMEDY, OidcProvider, unavailable


def _missing(what: str, remedy: str = "set its URL or run a Docker engine") -> None:
    reason = f"{what} is not available: {remedy}"
    if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
    pytest.skip(reason)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no engine, no socket, no permission: all mean "not here"
        return False


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url = os.environ.get("AMQP_URL")
    if url:
        yield url
        return
    if not _docker_answers():
        _missing("RabbitMQ")
    from testcontainers.rabbitmq import RabbitMqContainer  # type: ignore[import-untyped]

    with RabbitMqContainer("rabbitmq:3.13-management") as broker:
        host, port = broker.get_container_host_ip(), broker.get_exposed_port(5672)
        yield f"amqp://guest:guest@{host}:{port}//"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    if not _docker_answers():
        _missing("PostgreSQL")
    from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped]

    with PostgresContainer("postgres:16", driver="psycopg") as server:
        yield server.get_connection_url()


@pytest.fixture(scope="session")
def oidc_provider(request: pytest.FixtureRequest) -> Iterator[OidcProvider]:
    """The OpenID Connect stand-ins for Google and Microsoft (``contracts.testing.oidc``).
    They speak plain HTTP on loopback, which oauthlib allows only with
    ``OAUTHLIB_INSECURE_TRANSPORT``: set while they run."""
    root = request.config.rootpath
    why = unavailable(root)
    if why:
        _missing(f"The OIDC provider ({why})", REMEDY)
    with pytest.MonkeyPatch.context() as patch, OidcProvider(root) as provider:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        yield provider


@contextmanager
def _fresh_databases(postgres_server_url: str) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases on the server; drops them on the way out."""
    server = make_url(postgres_server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"nexam_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def new_postgres_database(postgres_server_url: str) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases on the server; drops them after the test."""
    with _fresh_databases(postgres_server_url) as make:
        yield make


@pytest.fixture(scope="module")
def module_postgres_database(postgres_server_url: str) -> Iterator[Callable[[], str]]:
    """The same for a platform a whole module shares (each test with its own addresses)."""
    with _fresh_databases(postgres_server_url) as make:
        yield make


@pytest.fixture
def postgres_url(new_postgres_database: Callable[[], str]) -> str:
    return new_postgres_database()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The same test against SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["filesystem", "rabbitmq"])
def bus_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The same test against the embedded filesystem transport and RabbitMQ."""
    if request.param == "filesystem":
        return f"filesystem://{tmp_path}/bus"
    return str(request.getfixturevalue("amqp_url"))


@pytest.fixture(scope="module", autouse=True)
def background_threads_end_with_their_module() -> Iterator[None]:
    """The listeners and refreshers of the apps a test module made are told to end with it
    (without waiting: each ends within its poll). Left running, every app of every earlier
    module would keep polling its bus and its gateway while the later tests run."""
    yield
    background.stop_all(wait=False)


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def migrated_database(database_url: str) -> Callable[[str], str]:
    """``migrated_database("exams")``: the test's database (SQLite, then PostgreSQL) brought
    to the latest schema of that service; its URL."""

    def migrate(package: str) -> str:
        upgrade(package, database_url)
        return database_url

    return migrate


TIERS = {
    "unit": "no I/O: a service's tests/unit/",
    "integration": "a part's own tests that reach a database, a bus or a server",
    "e2e": "the platform across services: the top-level tests/",
}


def pytest_configure(config: pytest.Config) -> None:
    for tier, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: {meaning}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        item.add_marker(tier_of(item.path.relative_to(root).parts))


def tier_of(parts: tuple[str, ...]) -> str:
    """The tier of a test file, from its path relative to the repository."""
    if parts[0] == "tests":
        return "e2e"
    if "unit" in parts[:-1]:
        return "unit"
    return "integration"
