"""``python -m invitations.worker``: outbox relay, event consumer, roster rows, expiry sweep."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from contracts.runtime.service import build_runtime
from contracts.runtime.worker import run_service_worker
from invitations import store
from invitations.config import InvitationSettings
from invitations.handlers import handlers
from invitations.jobs import jobs
from invitations.service import Issuer


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    settings = InvitationSettings.from_env(environ)
    runtime = build_runtime(settings.service, store.metadata)
    assert runtime.outbox is not None
    issuer = Issuer(runtime.outbox, settings.code_key)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    run_service_worker(
        settings.service,
        store.metadata,
        handlers(issuer, clock),
        jobs(runtime.sessions, issuer, clock),
        stop=stop,
        runtime=runtime,
    )


if __name__ == "__main__":
    main()
