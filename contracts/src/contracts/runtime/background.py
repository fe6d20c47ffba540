"""The threads a web process runs beside its requests (the gateway's SessionsEnded listener,
a service's JWKS refresher), stopped together: once at exit, and by the test kit after each
test, so that an app a test made never keeps polling while the tests after it run."""

from __future__ import annotations

import atexit
import threading
from typing import Protocol


class Stoppable(Protocol):
    def stop(self, wait: bool = True) -> None:
        """Tell the thread to end; with ``wait``, also wait (boundedly) until it has."""


_lock = threading.Lock()
_running: list[Stoppable] = []
_at_exit = False


def started(work: Stoppable) -> None:
    global _at_exit
    with _lock:
        _running.append(work)
        if not _at_exit:
            atexit.register(stop_all)
            _at_exit = True


def stopped(work: Stoppable) -> None:
    with _lock:
        if work in _running:
            _running.remove(work)


def stop_all(wait: bool = True) -> None:
    """Every thread told to end first, then waited for: they end side by side."""
    with _lock:
        running = list(reversed(_running))
        _running.clear()
    for work in running:
        work.stop(wait=False)
    if wait:
        for work in running:
            work.stop(wait=True)
