"""``python -m contracts.testing.busproc relay|consumer SPEC VAR_DIR [--crash-before-mark]
[--on-signal]``: a relay or a consumer of a test bus world in its own process, so that tests
can kill it. With ``--on-signal`` it loads everything, writes ``VAR_DIR/ROLE.ready``, then
waits for SIGUSR1 before it starts, so that a benchmark's clock does not count the
interpreter starting."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection as DbConnection

from contracts.testing.bus import BusWorld, WorldSpec


def main(argv: Sequence[str]) -> int:
    role, spec_json, var_dir = argv[0], argv[1], Path(argv[2])
    world = BusWorld(WorldSpec(**json.loads(spec_json)), var_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if "--on-signal" in argv:
        held = {signal.SIGUSR1, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
        (var_dir / f"{role}.ready").touch()
        if signal.sigwait(held) == signal.SIGTERM:
            return 0
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
    if role == "consumer":
        world.consumer().run_until(stop)
        return 0
    relay = world.relay()
    if "--crash-before-mark" in argv:

        def die(_db: DbConnection, _positions: Sequence[int]) -> None:
            os.kill(os.getpid(), signal.SIGKILL)  # published and confirmed, never marked

        relay._mark_sent = die  # type: ignore[method-assign,assignment]
    relay.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
