"""The exams service's fixtures: ``world``, the app on a migrated database (SQLite, then
PostgreSQL) with the test's clock and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from exams_testkit import ExamsWorld, exams_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[ExamsWorld]:
    with exams_world(database_url, tmp_path) as built:
        yield built
