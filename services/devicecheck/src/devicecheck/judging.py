"""Judging a device check run: the browser's report, what the service itself saw of the run,
and the thresholds the run started with give the failed checks. No I/O here.

The service believes the browser only as far as it must. What it saw itself it checks:
a speed, the latency, the document and the autosave count only if the run really used the
service's endpoints for them. The upload it also timed: the figure judged is the lower of
the browser's and the service's, so a browser cannot claim more than the service saw
arrive. (Behind the gateway, which reads a whole request before forwarding it, the service
times the gateway's hop, a generous bound; served directly it times the candidate's line.)
The download and the latency it cannot time from its side (the browser alone knows when the
last byte or the answer arrived), so those are the browser's figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devicecheck.thresholds import Thresholds

ENTIRE_SCREEN = "monitor"


@dataclass(frozen=True)
class Report:
    """What the browser says it measured and saw."""

    display_surface: str | None
    webcam_live: bool
    webcam_width: int | None
    webcam_height: int | None
    download_mbps: float | None
    upload_mbps: float | None
    latency_ms: float | None
    document_displayed: bool
    typed: bool
    autosave_ok: bool
    browser_name: str
    browser_version: str

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Report:
        """From the request body, already validated by its schema."""
        return cls(
            display_surface=body["screen_share"]["display_surface"],
            webcam_live=body["webcam"]["live"],
            webcam_width=body["webcam"]["width"],
            webcam_height=body["webcam"]["height"],
            download_mbps=body["download_mbps"],
            upload_mbps=body["upload_mbps"],
            latency_ms=body["latency_ms"],
            document_displayed=body["document_displayed"],
            typed=body["writing"]["typed"],
            autosave_ok=body["writing"]["autosave_ok"],
            browser_name=body["browser"]["name"],
            browser_version=body["browser"]["version"],
        )


@dataclass(frozen=True)
class Evidence:
    """What the service saw of the run through its own endpoints."""

    downloaded_bytes: int
    uploaded_bytes: int
    #: the fastest upload the service timed for the run, if any
    upload_mbps: float | None
    pings: int
    document_served: bool
    autosaves: int


@dataclass(frozen=True)
class Failure:
    check: str
    #: a stable code under the check: which message and advice apply
    reason: str
    #: the figures the message quotes (JSON-ready)
    values: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "reason": self.reason, "values": self.values}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        return cls(data["check"], data["reason"], data["values"])


@dataclass(frozen=True)
class Verdict:
    failures: tuple[Failure, ...]
    #: the speed and latency figures judged (the upload as bounded by the service's timing)
    figures: dict[str, float | None]

    @property
    def passed(self) -> bool:
        return not self.failures


def judge(report: Report, evidence: Evidence, thresholds: Thresholds) -> Verdict:
    upload = _bounded(report.upload_mbps, evidence.upload_mbps)
    found = [  # in the order a candidate meets the checks on the page
        _screen_share(report),
        _webcam(report, thresholds),
        _speed("download", report.download_mbps, evidence.downloaded_bytes, thresholds),
        _speed("upload", upload, evidence.uploaded_bytes, thresholds),
        _latency(report, evidence, thresholds),
        _document(report, evidence),
        _writing(report, evidence),
        _browser(report, thresholds),
    ]
    return Verdict(
        failures=tuple(f for f in found if f is not None),
        figures={
            "download_mbps": report.download_mbps,
            "upload_mbps": upload,
            "latency_ms": report.latency_ms,
        },
    )


def browser_key(name: str) -> str:
    """ "Google Chrome", "chrome " and "Chrome" are one browser to the settings."""
    return name.strip().casefold().removeprefix("google ").strip()


def _bounded(reported: float | None, timed: float | None) -> float | None:
    if reported is None or timed is None:
        return reported
    return min(reported, timed)


def _screen_share(report: Report) -> Failure | None:
    surface = report.display_surface
    if not surface:
        return Failure("screen_share", "not_shared", {})
    if surface != ENTIRE_SCREEN:
        return Failure("screen_share", "not_entire_screen", {"display_surface": surface})
    return None


def _webcam(report: Report, thresholds: Thresholds) -> Failure | None:
    if not report.webcam_live:
        return Failure("webcam", "not_live", {})
    width, height = report.webcam_width or 0, report.webcam_height or 0
    if width < thresholds.min_webcam_width or height < thresholds.min_webcam_height:
        return Failure(
            "webcam",
            "resolution_too_low",
            {
                "width": width,
                "height": height,
                "min_width": thresholds.min_webcam_width,
                "min_height": thresholds.min_webcam_height,
            },
        )
    return None


def _speed(check: str, mbps: float | None, moved: int, thresholds: Thresholds) -> Failure | None:
    required = thresholds.min_download_mbps if check == "download" else thresholds.min_upload_mbps
    if mbps is None or moved <= 0:
        return Failure(check, "not_measured", {})
    if mbps < required:
        return Failure(check, "too_slow", {"measured": mbps, "required": required})
    return None


def _latency(report: Report, evidence: Evidence, thresholds: Thresholds) -> Failure | None:
    if report.latency_ms is None or evidence.pings <= 0:
        return Failure("latency", "not_measured", {})
    if report.latency_ms > thresholds.max_latency_ms:
        return Failure(
            "latency",
            "too_high",
            {"measured": report.latency_ms, "allowed": thresholds.max_latency_ms},
        )
    return None


def _document(report: Report, evidence: Evidence) -> Failure | None:
    if report.document_displayed and evidence.document_served:
        return None
    return Failure("document", "not_displayed", {})


def _writing(report: Report, evidence: Evidence) -> Failure | None:
    if not report.typed:
        return Failure("writing", "not_typed", {})
    if not report.autosave_ok or evidence.autosaves <= 0:
        return Failure("writing", "autosave_failed", {})
    return None


def _browser(report: Report, thresholds: Thresholds) -> Failure | None:
    if browser_key(report.browser_name) in thresholds.browsers:
        return None
    return Failure(
        "browser",
        "not_supported",
        {
            "name": report.browser_name,
            "version": report.browser_version,
            "allowed": list(thresholds.browsers),
        },
    )
