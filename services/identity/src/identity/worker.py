"""``python -m identity.worker``: outbox relay and event consumer."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.runtime.service import build_runtime
from contracts.runtime.worker import run_service_worker
from identity import store
from identity.config import Settings
from identity.handlers import handlers


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    settings = Settings.from_env(environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    # the reset link it sends goes through the runtime's outbox, which seals it
    handling = handlers(
        settings.code_key, public_url=settings.service.public_url, outbox=runtime.outbox
    )
    run_service_worker(settings.service, store.metadata, handling, stop=stop, runtime=runtime)


if __name__ == "__main__":
    main()
