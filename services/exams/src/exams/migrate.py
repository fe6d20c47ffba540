"""``python -m exams.migrate``: bring the database to the latest schema."""

from __future__ import annotations

from contracts.runtime.migrations import upgrade
from exams.config import Settings


def main() -> None:
    upgrade("exams", Settings.common().database_url)


if __name__ == "__main__":
    main()
