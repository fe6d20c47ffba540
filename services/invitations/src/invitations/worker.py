"""``python -m invitations.worker``: outbox relay and event consumer."""

from __future__ import annotations

from contracts.worker import run_service_worker
from invitations import store
from invitations.config import load_settings
from invitations.handlers import handlers


def main() -> None:
    run_service_worker(load_settings(), store.metadata, handlers())


if __name__ == "__main__":
    main()
