"""What identity's tests share: ``world``, the identity app on a freshly migrated database
(SQLite and PostgreSQL) with a test clock and fast password hashing (``identity_testkit``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from identity_testkit import IdentityWorld, identity_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[IdentityWorld]:
    with identity_world(database_url, tmp_path) as built:
        yield built
