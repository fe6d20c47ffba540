"""A queue of this process's own, for the events every process of a service must see
(``Topology.process_queue``), declared for as long as a block runs.

RabbitMQ deletes an exclusive queue with the connection that declared it. kombu's filesystem
transport knows nothing of that: there a queue is a line in the exchange's table and message
files in the shared folder, and a process that dies would leave both behind, every later event
then copied to a queue nobody reads. So there each such queue has a lease, a file locked for
as long as its process lives; a process that opens its queue first drops the queues whose
lease is free (their process is gone), and one that stops drops its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kombu import Connection, Queue

from contracts.bus.connection import BusAddress
from contracts.bus.topology import Topology

log = logging.getLogger(__name__)

LEASE_SUFFIX = ".lease"


@contextlib.contextmanager
def process_queue(
    connection: Connection, bus: BusAddress, topology: Topology, service: str
) -> Iterator[Queue]:
    """This process's queue of ``service``'s every-process events, declared and bound on
    ``connection``'s default channel, and removed when the block ends."""
    queue: Queue = topology.process_queue(service, f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
    channel = connection.default_channel
    if not bus.is_filesystem:
        bound: Queue = queue(channel)
        bound.declare()
        yield bound  # the broker deletes it with the connection, however this process ends
        return
    leases = bus.folder / "control"
    lease = _take_lease(leases, queue.name)
    try:
        # after the channel opened: it gave back what dead consumers had claimed, so that
        # dropping their queues leaves nothing of them behind
        _drop_abandoned(channel, topology, leases, prefix=f"{topology.queue_name(service)}.")
        bound = queue(channel)
        bound.declare()
        yield bound
    finally:
        with contextlib.suppress(Exception):  # if not now, the next process drops it
            channel.drop_queue(topology.events_exchange_name, queue.name)
        lease.close()
        with contextlib.suppress(OSError):
            os.unlink(leases / f"{queue.name}{LEASE_SUFFIX}")


def _take_lease(folder: Path, queue_name: str) -> Any:
    """The queue's lease, locked: taken under a name nobody looks for, then renamed, so that
    no process ever finds it unlocked and takes it for a dead one's."""
    folder.mkdir(parents=True, exist_ok=True)
    hidden = folder / f"{queue_name}.taking"
    lease = open(hidden, "wb")  # noqa: SIM115 (held until the queue is dropped)
    fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(hidden, folder / f"{queue_name}{LEASE_SUFFIX}")
    return lease


def _drop_abandoned(channel: Any, topology: Topology, folder: Path, prefix: str) -> None:
    for path in folder.glob(f"{prefix}*{LEASE_SUFFIX}"):
        try:
            descriptor = os.open(path, os.O_WRONLY)  # never re-create one just removed
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            name = path.name.removesuffix(LEASE_SUFFIX)
            dropped = channel.drop_queue(topology.events_exchange_name, name)
            log.info("dropped the queue %s of a process that is gone (%d messages)", name, dropped)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        finally:
            os.close(descriptor)
