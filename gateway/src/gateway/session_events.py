"""Filling a gateway process's list of ended sessions: every SessionsEnded from the bus, on a
queue of the process's own (each process needs every event), and identity's list of the
sessions ended lately whenever that queue is (re)bound, so that a gateway that was down,
restarting or cut off from the bus misses nothing. Without the bus the gateway keeps
serving, asks identity every few seconds instead and tries the bus again."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from kombu.message import Message

from contracts.bus.connection import BusAddress
from contracts.bus.process_queue import process_queue
from contracts.bus.topology import Topology
from contracts.events.codec import decode
from contracts.runtime import background
from gateway.ended_sessions import EndedSessions

log = logging.getLogger(__name__)

SERVICE = "gateway"
EVENT_TYPE = "SessionsEnded"
#: how long the filesystem transport may take to notice an event: well within "seconds"
POLLING_INTERVAL = 0.25
#: waits between attempts to reach the bus, and between catch-ups with identity meanwhile
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 5.0

#: identity's sessions ended lately, as (session id, moment it ended)
RecentlyEnded = Callable[[], Iterable[tuple[str, datetime]]]


class SessionEvents:
    """A background thread that keeps ``ended`` up to date; started by the app factory."""

    def __init__(
        self,
        bus: BusAddress,
        topology: Topology,
        ended: EndedSessions,
        recently_ended: RecentlyEnded,
        *,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.bus = bus
        self.topology = topology
        self.ended = ended
        self.recently_ended = recently_ended
        self.retry_max = retry_max
        #: set while the process's queue is bound and consumed
        self.listening = threading.Event()
        #: set once identity's list has been read since the last (re)connection
        self.caught_up = threading.Event()
        #: the name of the process's queue, once bound
        self.queue_name: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._identity_away = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name="sessions-ended", daemon=True)
        self._thread.start()
        background.started(self)  # stopped at exit: the filesystem transport's queue goes too

    def stop(self, wait: bool = True, timeout: float = 10.0) -> None:
        self._stop.set()
        background.stopped(self)
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self) -> None:
        wait = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the bus is away: keep serving, ask identity meanwhile
                if self.listening.is_set():
                    wait = RETRY_FIRST_SECONDS
                self.listening.clear()
                log.log(
                    logging.WARNING if wait == RETRY_FIRST_SECONDS else logging.DEBUG,
                    "no SessionsEnded from the bus %s (%s); asking identity, and the bus "
                    "again in %.0f s",
                    self.bus.describe(),
                    exc,
                    wait,
                )
                self.caught_up.clear()
                self._catch_up()
                self._stop.wait(wait)
                wait = min(wait * 2, self.retry_max)
        self.listening.clear()

    def _listen(self) -> None:
        with self.bus.connect(polling_interval=POLLING_INTERVAL) as connection:
            connection.ensure_connection(max_retries=1)
            with (
                process_queue(connection, self.bus, self.topology, SERVICE) as queue,
                connection.Consumer([queue], on_message=self._on_message, accept=["json"]),
            ):
                self.queue_name = queue.name
                self.listening.set()
                log.info("listening for SessionsEnded on %s", queue.name)
                # after the queue is bound: an event from now on is queued, an earlier one
                # is in identity's list
                self.caught_up.clear()
                self._catch_up()
                next_catch_up = time.monotonic() + RETRY_FIRST_SECONDS
                while not self._stop.is_set():
                    try:
                        connection.drain_events(timeout=1)
                    except TimeoutError:
                        connection.heartbeat_check()
                        self.ended.prune()
                        if not self.caught_up.is_set() and time.monotonic() >= next_catch_up:
                            self._catch_up()
                            next_catch_up = time.monotonic() + self.retry_max

    def _catch_up(self) -> None:
        try:
            recent = list(self.recently_ended())
        except Exception as exc:  # identity is away or answered nonsense: tried again later
            # said once, not at every try while it lasts
            level = logging.DEBUG if self._identity_away else logging.WARNING
            log.log(level, "could not read the recently ended sessions from identity: %s", exc)
            self._identity_away = True
            return
        self._identity_away = False
        for session_id, ended_at in recent:
            self.ended.add([session_id], ended_at)
        self.caught_up.set()

    def _on_message(self, message: Message) -> None:
        try:
            event = decode(json.loads(message.body))
            if event.type == EVENT_TYPE:
                self.ended.add(
                    [str(session_id) for session_id in event.data["session_ids"]],
                    event.data["ended_at"],
                )
        except Exception as exc:  # not a valid SessionsEnded (ContractViolation, ValueError)
            # a queue of this process alone: nothing to dead-letter to, nobody to retry
            log.error("ignored a message that is not a valid %s: %s", EVENT_TYPE, exc)
        message.ack()
