"""Following a batch until the worker has processed every accepted row."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from nexam_cli.client import ApiClient, Batch
from nexam_cli.errors import NexamError, Unreachable

PROCESSING = "processing"
#: consecutive failed polls tolerated (a restarting gateway) before giving up
MAX_POLL_FAILURES = 3


class StillProcessing(NexamError):
    def __init__(self, batch: Batch, waited: float) -> None:
        super().__init__(
            f"Batch {batch['batch_id']} is still processing after {waited:.0f} s "
            f"({batch['processed']} of {batch['accepted']} rows done). Follow it with: "
            f"nexam batch {batch['batch_id']} --wait"
        )
        self.batch = batch


def follow_hint(batch_id: uuid.UUID | str) -> str:
    return f"The batch goes on in the background; follow it with: nexam batch {batch_id} --wait"


def wait_for_batch(
    client: ApiClient,
    batch_id: uuid.UUID | str,
    *,
    on_progress: Callable[[Batch], None],
    on_stall: Callable[[float], None] | None = None,
    interval: float = 0.5,
    max_wait: float | None = None,
    stall_after: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Batch:
    """Poll the batch until it is no longer processing; ``on_stall`` is called once when no
    row has been processed for ``stall_after`` seconds (the worker may be down)."""
    started = last_change = clock()
    last_processed = -1
    failures = 0
    stalled = False
    while True:
        try:
            batch = client.batch(batch_id)
        except Unreachable:
            failures += 1
            if failures >= MAX_POLL_FAILURES:
                raise
            sleep(interval * 2**failures)
            continue
        failures = 0
        on_progress(batch)
        if batch["status"] != PROCESSING:
            return batch
        now = clock()
        if batch["processed"] != last_processed:
            last_processed, last_change = batch["processed"], now
        elif not stalled and on_stall is not None and now - last_change >= stall_after:
            on_stall(now - last_change)
            stalled = True
        if max_wait is not None and now - started >= max_wait:
            raise StillProcessing(batch, now - started)
        sleep(interval)
