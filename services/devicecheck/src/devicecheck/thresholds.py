"""What a device must reach to pass the check (DESIGN section 6, settings of the service)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    min_download_mbps: float
    min_upload_mbps: float
    max_latency_ms: int
    #: browser names as ``judging.browser_key`` gives them: "chrome", "chromium"
    browsers: tuple[str, ...]
    min_webcam_width: int
    min_webcam_height: int
    validity_days: int

    @property
    def validity(self) -> timedelta:
        return timedelta(days=self.validity_days)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "browsers": list(self.browsers)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        """The thresholds a run was started with, as stored on it."""
        return cls(**{**data, "browsers": tuple(data["browsers"])})
