"""``python -m devicecheck.worker``: outbox relay (the device check consumes no events)."""

from __future__ import annotations

from contracts.worker import run_service_worker
from devicecheck import store
from devicecheck.config import load_settings


def main() -> None:
    run_service_worker(load_settings(), store.metadata)


if __name__ == "__main__":
    main()
