"""The invitations service's fixtures: a world on SQLite and PostgreSQL (``world``), one
built with settings of its own (``make_world``), one on PostgreSQL only (``pg_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from invitations_testkit import World, WorldFactory, build_world


@pytest.fixture
def make_world(database_url: str, tmp_path: Path) -> Iterator[WorldFactory]:
    apps: list[Flask] = []

    def make(**env: str) -> World:
        built = build_world(database_url, tmp_path, **env)
        apps.append(built.app)
        return built

    yield make
    for app in apps:
        app.extensions["nexam.runtime"].engine.dispose()


@pytest.fixture
def world(make_world: WorldFactory) -> World:
    return make_world()


@pytest.fixture
def pg_world(postgres_url: str, tmp_path: Path) -> Iterator[World]:
    built = build_world(postgres_url, tmp_path)
    yield built
    built.engine.dispose()
