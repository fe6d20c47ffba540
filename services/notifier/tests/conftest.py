"""What the notifier's tests share: the helpers of ``notifier_testkit`` (importable from every
folder below, since this file puts this folder on the path) and the fixtures here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notifier_testkit import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on an ephemeral port, for the test."""
    with smtp_server() as server:
        yield server
