"""``python -m identity.worker``: outbox relay and event consumer."""

from __future__ import annotations

from contracts.worker import run_service_worker
from identity import store
from identity.config import load_settings
from identity.handlers import handlers


def main() -> None:
    run_service_worker(load_settings(), store.metadata, handlers())


if __name__ == "__main__":
    main()
