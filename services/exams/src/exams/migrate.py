"""``python -m exams.migrate``: bring the database to the latest schema."""

from __future__ import annotations

from contracts.runtime.migrations import upgrade
from exams.config import load_settings


def main() -> None:
    upgrade("exams", load_settings().database_url)


if __name__ == "__main__":
    main()
