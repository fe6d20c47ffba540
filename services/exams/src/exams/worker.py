"""``python -m exams.worker``: outbox relay and event consumer."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.worker import run_service_worker
from exams import store
from exams.config import load_settings
from exams.handlers import handlers


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    run_service_worker(load_settings(environ), store.metadata, handlers(), stop=stop)


if __name__ == "__main__":
    main()
