"""The mailbox folder: one ``<id>.eml`` file per message plus a ``<id>.json`` envelope sidecar.

Every file is written under a temporary name and renamed into place, so a reader never sees
a half-written message. The sidecar is written first and the ``.eml`` last: a message exists
once its ``.eml`` file does. Ids are ``<receipt time in ns, 20 digits>-<8 hex digits>``, so
sorting them sorts by receipt, and anything else (``../x``, ``a/b``) is refused before any
path is built.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_ID_RE = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
_MESSAGE_SUFFIX = ".eml"
_ENVELOPE_SUFFIX = ".json"


def is_valid_id(message_id: str) -> bool:
    return _ID_RE.fullmatch(message_id) is not None


@dataclass(frozen=True)
class Envelope:
    """What the SMTP client said in ``MAIL FROM`` and ``RCPT TO``, and when."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    received_at: datetime


@dataclass(frozen=True)
class StoredMessage:
    id: str
    envelope: Envelope
    raw: bytes


class MessageStore:
    """Messages kept as files in ``directory``; safe to use from several threads."""

    def __init__(self, directory: Path, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.directory = directory
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ns = 0

    def save(self, raw: bytes, *, mail_from: str, rcpt_tos: Sequence[str]) -> str:
        """Store one message and return its id."""
        message_id, received_ns = self._new_id()
        received_at = datetime.fromtimestamp(received_ns / 1e9, tz=UTC)
        envelope = {
            "mail_from": mail_from,
            "rcpt_tos": list(rcpt_tos),
            "received_at": received_at.isoformat(),
        }
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._write_atomically(self._envelope_path(message_id), json.dumps(envelope).encode())
        self._write_atomically(self._message_path(message_id), raw)
        return message_id

    def ids(self) -> list[str]:
        """Ids of the stored messages, newest first."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        ids = [
            name.removesuffix(_MESSAGE_SUFFIX)
            for name in names
            if name.endswith(_MESSAGE_SUFFIX) and is_valid_id(name.removesuffix(_MESSAGE_SUFFIX))
        ]
        return sorted(ids, reverse=True)

    def get(self, message_id: str) -> StoredMessage | None:
        """The message, or ``None`` if the id is unknown or not an id at all."""
        if not is_valid_id(message_id):
            return None
        try:
            raw = self._message_path(message_id).read_bytes()
        except FileNotFoundError:
            return None
        return StoredMessage(id=message_id, envelope=self._read_envelope(message_id), raw=raw)

    def clear(self) -> int:
        """Delete every message; return how many there were."""
        deleted = 0
        for message_id in self.ids():
            with suppress(FileNotFoundError):
                self._message_path(message_id).unlink()
                deleted += 1
            self._envelope_path(message_id).unlink(missing_ok=True)
        return deleted

    def _new_id(self) -> tuple[str, int]:
        with self._lock:  # strictly increasing, so two messages never share a rank
            received_ns = max(self._clock(), self._last_ns + 1)
            self._last_ns = received_ns
        return f"{received_ns:020d}-{secrets.token_hex(4)}", received_ns

    def _message_path(self, message_id: str) -> Path:
        return self.directory / f"{message_id}{_MESSAGE_SUFFIX}"

    def _envelope_path(self, message_id: str) -> Path:
        return self.directory / f"{message_id}{_ENVELOPE_SUFFIX}"

    def _read_envelope(self, message_id: str) -> Envelope:
        received_ns = int(message_id.partition("-")[0])
        fallback = Envelope("", (), datetime.fromtimestamp(received_ns / 1e9, tz=UTC))
        try:
            data = json.loads(self._envelope_path(message_id).read_bytes())
            return Envelope(
                mail_from=str(data["mail_from"]),
                rcpt_tos=tuple(str(rcpt) for rcpt in data["rcpt_tos"]),
                received_at=datetime.fromisoformat(data["received_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return fallback  # sidecar lost or damaged: the message itself is still worth showing

    def _write_atomically(self, path: Path, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
