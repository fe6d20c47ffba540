"""The SMTP side: an aiosmtpd handler that accepts every message and stores it."""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifier.devmailbox.store import MessageStore

log = logging.getLogger(__name__)


class StoreHandler:
    """Accepts any sender and any recipient; answers 250 only once the message is on disk."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            message_id = await asyncio.to_thread(
                self._store.save,
                raw,
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
            )
        except OSError:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 Requested action aborted: local error in processing"
        log.info("stored message %s for %s", message_id, ", ".join(envelope.rcpt_tos))
        return f"250 Message accepted as {message_id}"


def create_controller(store: MessageStore, host: str, port: int) -> Controller:
    """An SMTP server, not started yet, that stores what it receives in ``store``."""
    return Controller(
        StoreHandler(store),
        hostname=host,
        port=port,
        server_hostname="nexam-devmailbox",
        enable_SMTPUTF8=True,
    )
