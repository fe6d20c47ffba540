"""The CLI's tests share one running invitations service per module, and a coordinator's
environment for the ``nexam`` command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_testkit import Platform, coordinator_env, running_platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("nexam-cli")) as running:
        yield running


@pytest.fixture
def env(platform: Platform) -> dict[str, str | None]:
    return coordinator_env(platform)
