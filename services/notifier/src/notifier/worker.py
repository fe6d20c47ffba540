"""``python -m notifier.worker``: event consumer (queues emails), delivery job (sends them)
and outbox relay (publishes EmailDelivered and EmailFailed)."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Mapping, Sequence

from contracts.events.clock import utcnow
from contracts.runtime.service import ServiceRuntime, build_runtime
from contracts.runtime.worker import PeriodicJob, run_service_worker
from notifier import store
from notifier.config import Settings
from notifier.delivery import Delivery, deliver_due
from notifier.handlers import handlers
from notifier.sealed_mime import PURPOSE
from notifier.sender import SmtpSender

#: an idle SMTP session is closed after this long, rather than left for the relay to drop
SMTP_IDLE_CLOSE_SECONDS = 60.0


def delivery_job(
    runtime: ServiceRuntime,
    settings: Settings,
    senders: Sequence[SmtpSender],
    stop: threading.Event,
    wake: threading.Event | None = None,
) -> PeriodicJob:
    assert runtime.outbox is not None
    delivery = Delivery(
        sessions=runtime.sessions,
        senders=senders,
        outbox=runtime.outbox,
        envelope_from=settings.smtp.envelope_sender,
        clock=utcnow,
        sealer=runtime.sealer.for_purpose(PURPOSE),
        retry=settings.retry,
        batch_size=settings.batch_size,
    )

    def run() -> None:
        report = deliver_due(delivery, should_stop=stop.is_set)
        if not report.handled:
            for sender in senders:
                if sender.idle_for() > SMTP_IDLE_CLOSE_SECONDS:
                    sender.close()

    return PeriodicJob("deliver-emails", settings.delivery_interval, run, wake)


def main(
    environ: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
    *,
    consume: bool = True,
    deliver: bool = True,
) -> None:
    """Both roles in one process by default; a busy platform runs ``--only consume`` and
    ``--only deliver`` as separate processes, so rendering and sending use two cores."""
    settings = Settings.from_env(environ)
    stop = stop or threading.Event()  # shared with the delivery job, so a long round ends early
    runtime = build_runtime(settings.service, store.metadata)
    senders = [SmtpSender(settings.smtp) for _ in range(settings.smtp.max_connections)]
    # both roles in one process: what the consumer queues is sent at once, not next round
    wake = threading.Event() if consume and deliver else None
    try:
        run_service_worker(
            settings.service,
            store.metadata,
            handlers(settings, on_queued=wake.set if wake else None) if consume else None,
            [delivery_job(runtime, settings, senders, stop, wake)] if deliver else [],
            stop=stop,
            runtime=runtime,
        )
    finally:
        for sender in senders:
            sender.close()
        runtime.engine.dispose()


def cli(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notifier.worker")
    parser.add_argument(
        "--only",
        choices=("consume", "deliver"),
        help="run one role: queue emails from events, or send queued emails",
    )
    only = parser.parse_args(argv).only
    main(consume=only in (None, "consume"), deliver=only in (None, "deliver"))


if __name__ == "__main__":
    cli()
