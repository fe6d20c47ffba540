"""What the device check says about each failed check, in the candidate's language: what went
wrong and what to do about it. The words are in the catalog ``translations``."""

from __future__ import annotations

from typing import Any

from contracts.runtime.translations import N_, Catalog
from devicecheck.judging import Failure

CATALOG = Catalog("devicecheck")

#: (check, reason) -> (message, advice)
FAILURES: dict[tuple[str, str], tuple[str, str]] = {
    ("screen_share", "not_shared"): (
        N_("Your screen was not shared."),
        N_('Allow screen sharing and choose "Entire screen", not a window or a tab.'),
    ),
    ("screen_share", "not_entire_screen"): (
        N_("You shared a window or a browser tab, not your entire screen."),
        N_(
            'Share your entire screen, not a window or a tab: choose "Entire screen" when the '
            "browser asks."
        ),
    ),
    ("webcam", "not_live"): (
        N_("The webcam gave no live image."),
        N_(
            "Close other applications using the camera (video calls, the camera app), allow the "
            "camera for this site, then run the check again."
        ),
    ),
    ("webcam", "resolution_too_low"): (
        N_(
            "The webcam's image is {width}x{height}; at least {min_width}x{min_height} is required."
        ),
        N_(
            "Close other applications using the camera, which can lower its resolution, or use a "
            "camera that films at least {min_width}x{min_height}."
        ),
    ),
    ("download", "too_slow"): (
        N_("The download speed is {measured} Mbps; at least {required} Mbps is required."),
        N_(
            "Connect by cable or move closer to the router, and stop other downloads and video "
            "streaming."
        ),
    ),
    ("download", "not_measured"): (
        N_("The download speed could not be measured."),
        N_(
            "Keep this page open until the check ends; if this happens again, check your "
            "connection, then run the check again."
        ),
    ),
    ("upload", "too_slow"): (
        N_("The upload speed is {measured} Mbps; at least {required} Mbps is required."),
        N_(
            "Connect by cable or move closer to the router, and pause cloud backups and other "
            "uploads."
        ),
    ),
    ("upload", "not_measured"): (
        N_("The upload speed could not be measured."),
        N_(
            "Keep this page open until the check ends; if this happens again, check your "
            "connection, then run the check again."
        ),
    ),
    ("latency", "too_high"): (
        N_("The connection's latency is {measured} ms; at most {allowed} ms is allowed."),
        N_(
            "Connect by cable or move closer to the router, and close applications that use the "
            "connection (video calls, downloads)."
        ),
    ),
    ("latency", "not_measured"): (
        N_("The connection's latency could not be measured."),
        N_(
            "Keep this page open until the check ends; if this happens again, check your "
            "connection, then run the check again."
        ),
    ),
    ("document", "not_displayed"): (
        N_("The sample document was not displayed."),
        N_(
            "Let the browser display PDF documents instead of downloading them (in Chrome: "
            "Settings, Privacy and security, Site settings, PDF documents), then run the check "
            "again."
        ),
    ),
    ("writing", "not_typed"): (
        N_("Typing in the writing area did not work."),
        N_(
            "Click in the writing area and type the sentence shown; if keys do not respond, turn "
            "off browser extensions that change pages, then run the check again."
        ),
    ),
    ("writing", "autosave_failed"): (
        N_("Your text could not be saved automatically."),
        N_(
            "Check that your connection is stable and that no extension, firewall or proxy blocks "
            "the platform, then run the check again."
        ),
    ),
    ("browser", "not_supported"): (
        N_("{name} {version} is not supported for exams."),
        N_("Use {allowed}: open the platform in it and run the check again."),
    ),
}


def explain(failure: Failure, language: str) -> dict[str, str]:
    """A failed check as the candidate reads it: what went wrong and what to do."""
    message, advice = FAILURES[(failure.check, failure.reason)]
    values = {name: _shown(value, language) for name, value in failure.values.items()}
    return {
        "check": failure.check,
        "reason": failure.reason,
        "message": CATALOG.say(message, language, **values),
        "advice": CATALOG.say(advice, language, **values),
    }


def seconds_words(seconds: int, language: str) -> str:
    """ "1 second", "45 secondes": how long to wait."""
    words = N_("{seconds} second") if seconds == 1 else N_("{seconds} seconds")
    return CATALOG.say(words, language, seconds=seconds)


def _shown(value: Any, language: str) -> str:
    if isinstance(value, list):  # browser names from the settings: "Chrome or Chromium"
        names = [str(v).title() for v in value]
        if len(names) <= 1:
            return "".join(names)
        return CATALOG.say(
            N_("{names} or {last}"), language, names=", ".join(names[:-1]), last=names[-1]
        )
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if language == "fr" else text
    return str(value)
