"""``python -m invitations.worker``: outbox relay, event consumer, roster rows, expiry sweep."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.events.clock import utcnow
from contracts.runtime.service import build_runtime
from contracts.runtime.worker import run_service_worker
from invitations import store
from invitations.config import Settings
from invitations.handlers import handlers
from invitations.issuing import Issuing
from invitations.jobs import jobs


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    settings = Settings.from_env(environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    issuing = Issuing(runtime.outbox, settings.code_key)
    run_service_worker(
        settings.service,
        store.metadata,
        handlers(runtime.outbox, utcnow),
        jobs(runtime.sessions, issuing, utcnow),
        stop=stop,
        runtime=runtime,
    )


if __name__ == "__main__":
    main()
