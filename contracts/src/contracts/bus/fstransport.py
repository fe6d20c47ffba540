"""kombu's filesystem transport, made safe against a process that dies.

The stock transport moves a message file out of the queue folder as soon as it is fetched
and keeps it only in memory until the ack, so a consumer killed with SIGKILL loses every
message it had prefetched, and a requeue re-routes through the exchange to every bound queue.
Here a message file is written under a temporary name and renamed into the queue, a fetched
message is moved into a ``processing`` folder under a name that says which
channel claimed it; the ack deletes it, a requeue moves it back to its own queue, and any
channel that starts gives back the messages of claimants that are no longer alive (their
lock file is free).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

CLAIM_KEY = "nexam_claim"


class Channel(filesystem.Channel):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.processing_folder.mkdir(parents=True, exist_ok=True)
        self._claimant = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._lock_path = self.processing_folder / f"{self._claimant}.lock"
        # locked under a name nobody looks at, then renamed: another channel starting at the
        # same moment never finds this lock file free and takes it for an orphan's
        hidden = self.processing_folder / f"{self._claimant}.locking"
        self._lock_file = open(hidden, "wb")  # noqa: SIM115
        fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(hidden, self._lock_path)
        self._give_back_orphans()

    @property
    def processing_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "processing"
        return Path(self.transport_options.get("processing_folder", default))

    def get_table(self, exchange: str) -> list[Any]:
        # the table file is only ever replaced whole, so a reader needs no lock
        try:
            table = loads(self._exchange_file(exchange).read_bytes())
        except FileNotFoundError:
            return []
        return [filesystem.exchange_queue_t(*binding) for binding in table]

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        """kombu's version truncates the table when two processes create it at once and
        lets readers see it half written; here one writer at a time rewrites it whole."""
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._rewrite_table(
            exchange, lambda table: table if binding in table else [binding, *table]
        )

    def drop_queue(self, exchange: str, queue: str) -> int:
        """Unbind ``queue`` from ``exchange`` whatever its routing keys and delete the
        messages waiting in it, for a queue whose consumer is gone for good; returns how
        many messages were deleted."""
        self._rewrite_table(exchange, lambda table: [b for b in table if b.queue != queue])
        return int(self._purge(queue))

    def _rewrite_table(self, exchange: str, change: Callable[[list[Any]], list[Any]]) -> None:
        table_file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(f"{table_file}.lock", "ab") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            table = self.get_table(exchange)
            changed = change(table)
            if changed == table:
                return
            partial = f"{table_file}.{os.getpid()}.partial"
            with open(partial, "wb") as f:
                f.write(dumps(changed).encode())
            os.replace(partial, table_file)

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # written under a name no queue matches, then renamed: a reader never sees half a file
        name = f"{int(time.monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.rename(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out}") from exc

    def _get(self, queue: str) -> dict[str, Any]:
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            claimed = self.processing_folder / f"{self._claimant}~{filename}"
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue  # another consumer took it first
            payload: dict[str, Any] = loads(claimed.read_bytes())
            payload["properties"][CLAIM_KEY] = str(claimed)
            return payload
        raise Empty()

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        self._forget(delivery_tag)
        super().basic_ack(delivery_tag, multiple)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if not requeue:
            self._forget(delivery_tag)
        super().basic_reject(delivery_tag, requeue=requeue)

    def _restore(self, message: Any) -> None:
        claimed = message.properties.get(CLAIM_KEY)
        if claimed:
            self._give_back(Path(claimed))

    def close(self) -> None:
        super().close()
        with contextlib.suppress(OSError):
            self._lock_file.close()
            os.unlink(self._lock_path)

    def _forget(self, delivery_tag: str) -> None:
        message = self.qos._delivered.get(delivery_tag)
        claimed = message.properties.get(CLAIM_KEY) if message is not None else None
        if claimed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(claimed)

    def _give_back(self, claimed: Path) -> None:
        original = claimed.name.partition("~")[2]
        with contextlib.suppress(FileNotFoundError):
            os.rename(claimed, os.path.join(self.data_folder_out, original))

    def _give_back_orphans(self) -> None:
        for lock_path in self.processing_folder.glob("*.lock"):
            claimant = lock_path.stem
            if claimant == self._claimant:
                continue
            with open(lock_path, "ab") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive
                for claimed in self.processing_folder.glob(f"{claimant}~*"):
                    self._give_back(claimed)
                with contextlib.suppress(OSError):
                    os.unlink(lock_path)


class Transport(filesystem.Transport):  # type: ignore[misc]
    Channel = Channel
