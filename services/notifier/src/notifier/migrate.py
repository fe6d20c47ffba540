"""``python -m notifier.migrate``: bring the database to the latest schema."""

from __future__ import annotations

from contracts.runtime.migrations import upgrade
from notifier.config import Settings


def main() -> None:
    upgrade("notifier", Settings.common().database_url)


if __name__ == "__main__":
    main()
