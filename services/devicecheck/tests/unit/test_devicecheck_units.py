"""The device check's parts without I/O: judging a report on what the service saw, the
wording of a failure, the settings, and the speed test's bytes."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from contracts.runtime.settings import ConfigurationError, ServiceSettings
from devicecheck.api import ANSWERS, NOT_AN_ACCOUNT
from devicecheck.config import Settings
from devicecheck.explanations import CATALOG, FAILURES, explain
from devicecheck.judging import Evidence, Failure, Report, browser_key, judge
from devicecheck.speed import CHUNK, Upload, UploadTooLarge, random_bytes, read_upload
from devicecheck.thresholds import Thresholds

THRESHOLDS = Thresholds(
    min_download_mbps=1.0,
    min_upload_mbps=1.0,
    max_latency_ms=500,
    browsers=("chrome", "chromium"),
    min_webcam_width=640,
    min_webcam_height=480,
    validity_days=7,
)
REPORT = Report(
    display_surface="monitor",
    webcam_live=True,
    webcam_width=640,
    webcam_height=480,
    download_mbps=1.0,
    upload_mbps=1.0,
    latency_ms=500.0,
    document_displayed=True,
    typed=True,
    autosave_ok=True,
    browser_name="Google Chrome",
    browser_version="131.0",
)
SEEN = Evidence(
    downloaded_bytes=1,
    uploaded_bytes=1,
    upload_mbps=None,
    pings=1,
    document_served=True,
    autosaves=1,
)


def _reasons(report: Report = REPORT, evidence: Evidence = SEEN) -> list[tuple[str, str]]:
    return [(f.check, f.reason) for f in judge(report, evidence, THRESHOLDS).failures]


def test_a_report_exactly_at_every_threshold_passes() -> None:
    verdict = judge(REPORT, SEEN, THRESHOLDS)

    assert verdict.passed
    assert verdict.figures == {"download_mbps": 1.0, "upload_mbps": 1.0, "latency_ms": 500.0}


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"display_surface": "window"}, ("screen_share", "not_entire_screen")),
        ({"display_surface": ""}, ("screen_share", "not_shared")),
        ({"webcam_width": 639}, ("webcam", "resolution_too_low")),
        ({"webcam_height": None}, ("webcam", "resolution_too_low")),
        ({"webcam_live": False}, ("webcam", "not_live")),
        ({"download_mbps": 0.99}, ("download", "too_slow")),
        ({"upload_mbps": None}, ("upload", "not_measured")),
        ({"latency_ms": 500.01}, ("latency", "too_high")),
        ({"browser_name": "Microsoft Edge"}, ("browser", "not_supported")),
    ],
)
def test_one_step_past_a_threshold_fails_that_check_alone(
    change: dict[str, object], failure: tuple[str, str]
) -> None:
    assert _reasons(replace(REPORT, **change)) == [failure]  # type: ignore[arg-type]


def test_the_upload_judged_is_the_lower_of_the_browsers_and_the_services() -> None:
    timed = replace(SEEN, upload_mbps=0.4)

    verdict = judge(replace(REPORT, upload_mbps=90.0), timed, THRESHOLDS)
    generous = judge(replace(REPORT, upload_mbps=2.0), replace(SEEN, upload_mbps=950.0), THRESHOLDS)

    assert verdict.failures == (Failure("upload", "too_slow", {"measured": 0.4, "required": 1.0}),)
    assert generous.passed and generous.figures["upload_mbps"] == 2.0


def test_nothing_seen_by_the_service_fails_what_it_should_have_seen() -> None:
    nothing = Evidence(0, 0, None, 0, False, 0)

    assert _reasons(evidence=nothing) == [
        ("download", "not_measured"),
        ("upload", "not_measured"),
        ("latency", "not_measured"),
        ("document", "not_displayed"),
        ("writing", "autosave_failed"),
    ]


@pytest.mark.parametrize(
    ("name", "key"),
    [("Chrome", "chrome"), (" Google Chrome ", "chrome"), ("CHROMIUM", "chromium")],
)
def test_browser_names_are_compared_loosely(name: str, key: str) -> None:
    assert browser_key(name) == key


def test_every_failure_and_refusal_is_worded_in_english_and_french() -> None:
    for words in [*(words for _status, words in ANSWERS.values()), NOT_AN_ACCOUNT]:
        assert CATALOG.say(words, "fr") != words
    for (check, reason), worded in FAILURES.items():
        assert all(CATALOG.say(text, "fr") != text for text in worded)
        values = {
            "width": 320,
            "height": 240,
            "min_width": 640,
            "min_height": 480,
            "measured": 0.5,
            "required": 1.0,
            "allowed": 500,
            "name": "Firefox",
            "version": "136.0",
        }
        for language in ("en", "fr"):
            explained = explain(Failure(check, reason, values), language)
            assert explained["message"] and explained["advice"]
            assert "{" not in explained["message"] + explained["advice"]


def test_figures_are_written_the_way_each_language_writes_them() -> None:
    slow = Failure("download", "too_slow", {"measured": 12.345, "required": 1.5})
    browser = Failure(
        "browser",
        "not_supported",
        {"name": "Safari", "version": "18", "allowed": ["chrome", "chromium", "edge"]},
    )

    assert explain(slow, "en")["message"].startswith("The download speed is 12.35 Mbps")
    assert explain(slow, "fr")["message"].endswith("il faut au moins 1,5 Mbit/s.")
    assert explain(browser, "en")["advice"].startswith("Use Chrome, Chromium or Edge:")
    assert explain(browser, "de")["advice"].startswith("Use Chrome")  # English otherwise


# -- settings ----------------------------------------------------------------------------------


def _settings(**env: str) -> Settings:
    return Settings.for_service(ServiceSettings.from_env("devicecheck", {}), env)


def test_the_defaults_are_the_issues() -> None:
    settings = _settings()

    assert settings.thresholds == THRESHOLDS
    assert settings.thresholds.validity == timedelta(days=7)
    assert (settings.budget.requests, settings.budget.window) == (120, timedelta(minutes=1))


def test_thresholds_are_read_from_the_environment() -> None:
    settings = _settings(
        DEVICECHECK_MIN_DOWNLOAD_MBPS="2.5",
        DEVICECHECK_MIN_UPLOAD_MBPS="0.5",
        DEVICECHECK_MAX_LATENCY_MS="300",
        DEVICECHECK_BROWSERS=" Google Chrome,chromium,EDGE, ",
        DEVICECHECK_VALIDITY_DAYS="3",
    )

    assert settings.thresholds == replace(
        THRESHOLDS,
        min_download_mbps=2.5,
        min_upload_mbps=0.5,
        max_latency_ms=300,
        browsers=("chrome", "chromium", "edge"),
        validity_days=3,
    )
    assert Thresholds.from_dict(settings.thresholds.as_dict()) == settings.thresholds


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEVICECHECK_MIN_DOWNLOAD_MBPS", "fast"),
        ("DEVICECHECK_MIN_UPLOAD_MBPS", "-1"),
        ("DEVICECHECK_MAX_LATENCY_MS", "12.5"),
        ("DEVICECHECK_MAX_LATENCY_MS", "nan"),
        ("DEVICECHECK_VALIDITY_DAYS", "0"),
        ("DEVICECHECK_BROWSERS", " , "),
        ("DEVICECHECK_REQUESTS_PER_MINUTE", "inf"),
    ],
)
def test_a_setting_that_makes_no_sense_is_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        _settings(**{name: value})


# -- the bytes ---------------------------------------------------------------------------------


def test_random_bytes_come_in_chunks_adding_up_to_the_size() -> None:
    chunks = list(random_bytes(2 * CHUNK + 5))

    assert [len(c) for c in chunks] == [CHUNK, CHUNK, 5]
    assert chunks[0] != chunks[1]


def test_an_upload_is_counted_and_timed() -> None:
    readings = iter([10.0, 12.0])

    upload = read_upload(io.BytesIO(b"x" * 250_000), 10**6, lambda: next(readings))

    assert upload == Upload(received=250_000, seconds=2.0)
    assert upload.bits_per_second == 1_000_000
    assert Upload(received=5, seconds=0.0).bits_per_second is None


def test_an_upload_of_unknown_length_stops_past_the_bound() -> None:
    class Refusing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise RequestEntityTooLarge()

    with pytest.raises(UploadTooLarge):
        read_upload(io.BytesIO(b"x" * (CHUNK * 3)), CHUNK * 2, lambda: 0.0)
    with pytest.raises(UploadTooLarge):
        read_upload(Refusing(), 100, lambda: 0.0)
