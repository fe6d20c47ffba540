"""``python -m identity.worker``: outbox relay and event consumer."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from contracts.bus.outbox import Outbox
from contracts.web.keyfiles import bus_sealer
from contracts.worker import run_service_worker
from identity import store
from identity.config import SERVICE, code_key, load_settings
from identity.handlers import handlers


def main(environ: Mapping[str, str] | None = None, stop: threading.Event | None = None) -> None:
    settings = load_settings(environ)
    # the reset link it sends is sealed in the outbox (DESIGN section 5)
    outbox = Outbox(store.metadata, SERVICE, sealer=bus_sealer(settings))
    handling = handlers(code_key(settings, environ), public_url=settings.public_url, outbox=outbox)
    run_service_worker(settings, store.metadata, handling, stop=stop)


if __name__ == "__main__":
    main()
