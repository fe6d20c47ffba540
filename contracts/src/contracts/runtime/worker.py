"""The worker process of a service: outbox relay, event consumer and periodic jobs, with its
own /metrics, stopping cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING

from prometheus_client import start_http_server
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.connection import BusAddress
from contracts.bus.consumer import AnyHandler, EventConsumer
from contracts.bus.relay import Relay
from contracts.bus.sealing import Sealer
from contracts.bus.tables import INBOX, OUTBOX
from contracts.bus.topology import Topology
from contracts.runtime.settings import ServiceSettings

if TYPE_CHECKING:
    from contracts.runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], object]
    #: set it to run the job at once instead of at the end of the interval
    wake: threading.Event | None = None


@dataclass
class WorkerParts:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker[Session]
    metadata: MetaData
    handlers: Mapping[str, AnyHandler] = field(default_factory=dict)
    jobs: Sequence[PeriodicJob] = ()
    topology: Topology = field(default_factory=Topology)
    #: opens the sealed fields of the events consumed
    sealer: Sealer | None = None


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def run_worker(parts: WorkerParts, stop: threading.Event | None = None) -> None:
    settings = parts.settings
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _setter(stop))
    start_http_server(settings.worker_metrics_port, addr=settings.bind_host)
    bus = BusAddress(settings.bus_url, settings.var_dir)
    log.info(
        "%s worker: bus %s, metrics on %s:%s",
        settings.service,
        bus.describe(),
        settings.bind_host,
        settings.worker_metrics_port,
    )
    threads: list[threading.Thread] = []
    if OUTBOX in parts.metadata.tables:
        relay = Relay(
            parts.engine,
            parts.metadata.tables[OUTBOX],
            bus,
            parts.topology,
            settings.service,
        )
        threads.append(threading.Thread(target=relay.run, args=(stop,), name="relay"))
    for job in parts.jobs:
        threads.append(threading.Thread(target=_every, args=(job, stop), name=job.name))
    for thread in threads:
        thread.start()
    if parts.handlers:
        consumer = EventConsumer(
            settings.service,
            parts.sessions,
            parts.metadata.tables[INBOX],
            parts.handlers,
            bus,
            parts.topology,
            sealer=parts.sealer,
        )
        consumer.run_until(stop)
    stop.wait()
    for job in parts.jobs:
        if job.wake is not None:
            job.wake.set()  # a job waiting to be woken sees the stop at once
    for thread in threads:
        thread.join(timeout=10)
    log.info("%s worker stopped", settings.service)


def _every(job: PeriodicJob, stop: threading.Event) -> None:
    while not _next_round(job, stop):
        try:
            job.run()
        except Exception:  # a failed round is logged; the next one runs as planned
            log.exception("periodic job %s failed", job.name)


def _next_round(job: PeriodicJob, stop: threading.Event) -> bool:
    """Wait for the interval to pass or the job to be woken; True when the worker stops."""
    if job.wake is None:
        return stop.wait(job.every_seconds)
    job.wake.wait(job.every_seconds)
    job.wake.clear()
    return stop.is_set()


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return handler


def run_service_worker(
    settings: ServiceSettings,
    metadata: MetaData,
    handlers: Mapping[str, AnyHandler] | None = None,
    jobs: Sequence[PeriodicJob] = (),
    stop: threading.Event | None = None,
    runtime: ServiceRuntime | None = None,
) -> None:
    """The whole ``main()`` of a service's worker module. A worker whose handlers or jobs
    need the runtime's parts (its sealing outbox, its sessions) builds it and passes it in,
    so there is one engine and one reading of the key files."""
    from contracts.runtime.service import build_runtime

    configure_logging()
    runtime = runtime or build_runtime(settings, metadata)
    run_worker(
        WorkerParts(
            settings=settings,
            engine=runtime.engine,
            sessions=runtime.sessions,
            metadata=metadata,
            handlers=handlers or {},
            jobs=jobs,
            topology=Topology.for_namespace(settings.bus_namespace),
            sealer=runtime.sealer,
        ),
        stop,
    )
