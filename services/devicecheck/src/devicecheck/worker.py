"""``python -m devicecheck.worker``: outbox relay (the device check consumes no events)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.runtime.worker import run_service_worker
from devicecheck import store
from devicecheck.config import Settings


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    run_service_worker(Settings.common(environ), store.metadata, stop=stop)


if __name__ == "__main__":
    main()
