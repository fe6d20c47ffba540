"""From ``BUS_URL`` to a kombu connection, the same way in every process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

FILESYSTEM_TRANSPORT = "contracts.bus.fstransport:Transport"


@dataclass(frozen=True)
class BusAddress:
    """Where the bus is: ``amqp://...`` for RabbitMQ, ``filesystem://`` (folder under
    ``var/bus``) or ``filesystem:///some/folder`` for the embedded transport."""

    url: str
    var_dir: Path

    @property
    def is_filesystem(self) -> bool:
        return urlparse(self.url).scheme == "filesystem"

    @property
    def folder(self) -> Path:
        path = urlparse(self.url).path
        return Path(path) if path not in ("", "/") else self.var_dir / "bus"

    def connect(self, *, polling_interval: float = 0.05) -> Connection:
        """``polling_interval``: how often the filesystem transport looks for new messages
        (a consumer that may take longer to notice them polls less)."""
        if self.is_filesystem:
            TRANSPORT_ALIASES.setdefault("nexamfs", FILESYSTEM_TRANSPORT)
            data = self.folder / "data"
            for sub in ("data", "control", "processing"):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
            return Connection(
                "nexamfs://",
                transport_options={
                    "data_folder_in": str(data),
                    "data_folder_out": str(data),
                    "control_folder": str(self.folder / "control"),
                    "processing_folder": str(self.folder / "processing"),
                    "polling_interval": polling_interval,
                },
            )
        return Connection(
            self.url,
            connect_timeout=5,
            heartbeat=0,
            transport_options={"confirm_publish": True, "max_retries": 1},
        )

    def describe(self) -> str:
        """The address without credentials, for logs and health pages."""
        if self.is_filesystem:
            return f"filesystem:{self.folder}"
        parsed = urlparse(self.url)
        return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 5672}{parsed.path}"
