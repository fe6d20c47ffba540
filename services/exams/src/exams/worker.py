"""``python -m exams.worker``: outbox relay, event consumer, and the overdue-attempts sweep."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.events.clock import utcnow
from contracts.runtime.service import build_runtime
from contracts.runtime.worker import run_service_worker
from exams import store
from exams.config import Settings
from exams.handlers import handlers
from exams.jobs import jobs


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    settings = Settings.from_env(environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    run_service_worker(
        settings.service,
        store.metadata,
        handlers(utcnow),
        jobs(runtime.sessions, runtime.outbox, utcnow, settings.grace),
        stop=stop,
        runtime=runtime,
    )


if __name__ == "__main__":
    main()
