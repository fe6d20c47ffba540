"""``python -m notifier.devmailbox``: run the development mailbox until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType

from notifier.devmailbox.config import Settings
from notifier.devmailbox.server import DevMailbox
from notifier.devmailbox.store import MessageStore

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def main(environ: Mapping[str, str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    try:
        settings = Settings.from_env(environ)
    except ValueError as error:
        print(f"devmailbox: {error}", file=sys.stderr)
        return 2
    mailbox = DevMailbox(settings, MessageStore(settings.directory))
    with _stop_signals() as wait_for_stop_signal:
        try:
            mailbox.start()
        except OSError as error:
            print(f"devmailbox: cannot start: {error}", file=sys.stderr)
            return 1
        try:
            print(f"devmailbox: SMTP on {mailbox.smtp_address}", flush=True)
            print(f"devmailbox: web on {mailbox.web_url}", flush=True)
            print(f"devmailbox: messages kept in {settings.directory.resolve()}", flush=True)
            received = wait_for_stop_signal()
            print(f"devmailbox: {received.name} received, stopping", flush=True)
        finally:
            mailbox.stop()
    return 0


@contextmanager
def _stop_signals() -> Iterator[Callable[[], signal.Signals]]:
    """Catch SIGINT and SIGTERM; yield a function that blocks until one of them arrives.

    The kernel may deliver a signal to any thread (the SMTP or web one too), and Python's own
    handlers only run once the main thread runs bytecode again. The wake-up fd, however, is
    written by the C-level handler whichever thread got the signal, so the main thread waits on
    it. The Python handler does nothing: a second signal (honcho sends SIGTERM after the
    terminal's SIGINT) cannot interrupt the shutdown.
    """
    receiver, sender = socket.socketpair()  # a socket, so that Windows accepts it too
    sender.setblocking(False)
    previous_handlers = {sig: signal.signal(sig, _do_nothing) for sig in STOP_SIGNALS}
    previous_fd = signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)

    def wait() -> signal.Signals:
        while (number := receiver.recv(1)[0]) not in STOP_SIGNALS:
            pass  # another signal with a Python handler: not ours to act on
        return signal.Signals(number)

    try:
        yield wait
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous_handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
        receiver.close()
        sender.close()


def _do_nothing(signum: int, frame: FrameType | None) -> None:
    """Replaces the default handlers; the wake-up fd does the work."""


if __name__ == "__main__":
    sys.exit(main(os.environ))
