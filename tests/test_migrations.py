"""Every service's Alembic history, on SQLite and PostgreSQL: it builds exactly the schema its
``store.metadata`` describes, goes down and up again, is idempotent, and the service is ready
on the database it built."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    make_url,
    select,
)
from sqlalchemy.pool import NullPool

from contracts.bus.tables import INBOX, OUTBOX
from contracts.runtime.migrations import alembic_config, downgrade, upgrade
from contracts.runtime.settings import ServiceSettings

SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")
#: the device check produces events but consumes none, so it has no inbox
CONSUMERS = {"identity", "invitations", "notifier", "exams"}


def metadata_of(service: str) -> MetaData:
    metadata: MetaData = importlib.import_module(f"{service}.store").metadata
    return metadata


def engine_for(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def schema_of(url: str) -> dict[str, Any]:
    """What is in the database: tables, their columns, indexes and unique constraints."""
    engine = engine_for(url)
    try:
        inspector = inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            schema[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
            }
        return schema
    finally:
        engine.dispose()


def differences(url: str, metadata: MetaData) -> list[Any]:
    """Alembic autogenerate's view: what a new migration would have to change."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def revision_of(url: str) -> str | None:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_of(service: str, url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service, url)).get_current_head()


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_builds_exactly_the_models(service: str, database_url: str) -> None:
    metadata = metadata_of(service)
    assert OUTBOX in metadata.tables
    assert (INBOX in metadata.tables) == (service in CONSUMERS)

    upgrade(service, database_url)

    schema = schema_of(database_url)
    assert set(schema) == set(metadata.tables) | {"alembic_version"}
    assert revision_of(database_url) == head_of(service, database_url) is not None
    assert differences(database_url, metadata) == []
    assert ("ix_bus_outbox_unsent", ("position",)) in schema[OUTBOX]["indexes"]


def test_the_comparison_sees_a_model_that_drifted(database_url: str) -> None:
    """The guard for the test above: a column or a table missing from the migrations shows."""
    upgrade("invitations", database_url)
    drifted = MetaData(naming_convention=metadata_of("invitations").naming_convention)
    for table in metadata_of("invitations").sorted_tables:
        table.to_metadata(drifted)
    drifted.tables[OUTBOX].append_column(Column("attempts", Integer, nullable=True))
    Table("invitation", drifted, Column("id", String(36), primary_key=True))

    found = {
        (d[0], d[2] if d[0] == "add_column" else d[1].name)
        for d in differences(database_url, drifted)
    }

    assert found == {("add_column", OUTBOX), ("add_table", "invitation")}


@pytest.mark.parametrize("service", SERVICES)
def test_downgrade_to_base_then_upgrade_again(service: str, database_url: str) -> None:
    metadata = metadata_of(service)
    upgrade(service, database_url)
    built = schema_of(database_url)

    downgrade(service, database_url, "base")

    assert set(schema_of(database_url)) <= {"alembic_version"}
    assert revision_of(database_url) is None

    upgrade(service, database_url)

    assert schema_of(database_url) == built
    assert differences(database_url, metadata) == []
    assert revision_of(database_url) == head_of(service, database_url)


@pytest.mark.parametrize("service", SERVICES)
def test_upgrading_twice_changes_nothing(service: str, database_url: str) -> None:
    outbox = metadata_of(service).tables[OUTBOX]
    upgrade(service, database_url)
    event_id = uuid.uuid4()
    engine = engine_for(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                outbox.insert().values(
                    event_id=event_id,
                    routing_key="identity.AccountActivated.v1",
                    body={"hello": "world"},
                    created_at=datetime.now(UTC),
                )
            )
        before = schema_of(database_url)

        upgrade(service, database_url)

        assert schema_of(database_url) == before
        assert revision_of(database_url) == head_of(service, database_url)
        with engine.connect() as connection:
            rows = connection.execute(select(outbox.c.event_id, outbox.c.body)).all()
        assert [tuple(r) for r in rows] == [(event_id, {"hello": "world"})]
    finally:
        engine.dispose()


def _settings(service: str, tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings.from_env(
        service,
        {
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            f"{service.upper()}_DATABASE_URL": database_url,
            "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        },
    )


def own_settings(service: str, settings: ServiceSettings) -> Any:
    """The settings a service's create_app takes, around the common ones."""
    return importlib.import_module(f"{service}.config").Settings.for_service(settings)


def _get_readyz(service: str, settings: ServiceSettings) -> Any:
    app = importlib.import_module(service).create_app(own_settings(service, settings))
    try:
        return app.test_client().get("/readyz")
    finally:
        app.extensions["nexam.runtime"].engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_is_ready_on_the_database_it_migrated(
    service: str, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(service, tmp_path, database_url)
    upgrade(service, settings.database_url)

    response = _get_readyz(service, settings)

    assert response.status_code == 200, response.json
    assert response.json == {
        "status": "ready",
        "service": service,
        "checks": {"database": "ok", "bus": "ok"},
    }


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_is_not_ready_when_its_database_does_not_exist(
    service: str, postgres_server_url: str, tmp_path: Path
) -> None:
    missing = (
        make_url(postgres_server_url)
        .set(drivername="postgresql+psycopg", database=f"nexam_missing_{uuid.uuid4().hex[:12]}")
        .render_as_string(hide_password=False)
    )
    settings = _settings(service, tmp_path, missing)

    response = _get_readyz(service, settings)

    assert response.status_code == 503
    body = response.json
    assert body["error"] == "not_ready"
    assert body["message"]
    assert body["checks"]["bus"] == "ok"
    assert body["checks"]["database"].startswith("unavailable")
