"""Settings of the devicecheck service, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts.runtime.settings import (
    ConfigurationError,
    OwnSettings,
    ServiceSettings,
    env_number,
    env_whole,
)
from devicecheck.judging import browser_key
from devicecheck.thresholds import Thresholds

SERVICE = "devicecheck"


@dataclass(frozen=True)
class RequestBudget:
    """What one account may ask of the device check per window: the speed endpoints would
    otherwise serve gigabytes to anyone holding a candidate token."""

    requests: int
    bytes: int
    window: timedelta


@dataclass(frozen=True)
class Settings(OwnSettings):
    name = SERVICE

    service: ServiceSettings
    thresholds: Thresholds
    budget: RequestBudget

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Settings:
        thresholds = Thresholds(
            min_download_mbps=env_number(env, "DEVICECHECK_MIN_DOWNLOAD_MBPS", 1.0, least=0),
            min_upload_mbps=env_number(env, "DEVICECHECK_MIN_UPLOAD_MBPS", 1.0, least=0),
            max_latency_ms=env_whole(env, "DEVICECHECK_MAX_LATENCY_MS", 500, least=1),
            browsers=_browsers(env.get("DEVICECHECK_BROWSERS", "chrome,chromium")),
            min_webcam_width=env_whole(env, "DEVICECHECK_MIN_WEBCAM_WIDTH", 640, least=1),
            min_webcam_height=env_whole(env, "DEVICECHECK_MIN_WEBCAM_HEIGHT", 480, least=1),
            validity_days=env_whole(env, "DEVICECHECK_VALIDITY_DAYS", 7, least=1),
        )
        budget = RequestBudget(
            requests=env_whole(env, "DEVICECHECK_REQUESTS_PER_MINUTE", 120, least=1),
            bytes=env_whole(env, "DEVICECHECK_BYTES_PER_MINUTE", 100 * 1024 * 1024, least=1),
            window=timedelta(minutes=1),
        )
        return cls(service=service, thresholds=thresholds, budget=budget)


def _browsers(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(browser_key(n) for n in raw.split(",") if browser_key(n)))
    if not names:
        raise ConfigurationError("DEVICECHECK_BROWSERS must name at least one browser")
    return names
