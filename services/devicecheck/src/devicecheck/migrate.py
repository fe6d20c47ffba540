"""``python -m devicecheck.migrate``: bring the database to the latest schema."""

from __future__ import annotations

from contracts.runtime.migrations import upgrade
from devicecheck.config import Settings


def main() -> None:
    upgrade("devicecheck", Settings.common().database_url)


if __name__ == "__main__":
    main()
