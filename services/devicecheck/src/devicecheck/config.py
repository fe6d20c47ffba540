"""Settings of the devicecheck service, read once from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts.runtime.settings import ConfigurationError, ServiceSettings
from devicecheck.judging import browser_key
from devicecheck.thresholds import Thresholds

SERVICE = "devicecheck"


def load_settings(environ: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE, environ)


@dataclass(frozen=True)
class RequestBudget:
    """What one account may ask of the device check per window: the speed endpoints would
    otherwise serve gigabytes to anyone holding a candidate token."""

    requests: int
    bytes: int
    window: timedelta


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    thresholds: Thresholds
    budget: RequestBudget

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls.for_service(load_settings(env), env)

    @classmethod
    def for_service(
        cls, service: ServiceSettings, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """The device-check settings around common ones already read."""
        env = os.environ if environ is None else environ
        thresholds = Thresholds(
            min_download_mbps=_number(env, "DEVICECHECK_MIN_DOWNLOAD_MBPS", 1.0, 0),
            min_upload_mbps=_number(env, "DEVICECHECK_MIN_UPLOAD_MBPS", 1.0, 0),
            max_latency_ms=_whole(env, "DEVICECHECK_MAX_LATENCY_MS", 500, 1),
            browsers=_browsers(env.get("DEVICECHECK_BROWSERS", "chrome,chromium")),
            min_webcam_width=_whole(env, "DEVICECHECK_MIN_WEBCAM_WIDTH", 640, 1),
            min_webcam_height=_whole(env, "DEVICECHECK_MIN_WEBCAM_HEIGHT", 480, 1),
            validity_days=_whole(env, "DEVICECHECK_VALIDITY_DAYS", 7, 1),
        )
        budget = RequestBudget(
            requests=_whole(env, "DEVICECHECK_REQUESTS_PER_MINUTE", 120, 1),
            bytes=_whole(env, "DEVICECHECK_BYTES_PER_MINUTE", 100 * 1024 * 1024, 1),
            window=timedelta(minutes=1),
        )
        return cls(service=service, thresholds=thresholds, budget=budget)


def _number(env: Mapping[str, str], name: str, default: float, least: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if not least <= value < math.inf:  # NaN fails this too
        raise ConfigurationError(f"{name} must be a number of at least {least:g}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, least: int) -> int:
    value = _number(env, name, default, least)
    if not value.is_integer():
        raise ConfigurationError(f"{name} must be a whole number")
    return int(value)


def _browsers(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(browser_key(n) for n in raw.split(",") if browser_key(n)))
    if not names:
        raise ConfigurationError("DEVICECHECK_BROWSERS must name at least one browser")
    return names
