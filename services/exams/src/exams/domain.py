"""Plain rules of exams: when an exam may be started, what a candidate still lacks, until
when an attempt accepts answers, what a subject document must look like. No I/O here."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.runtime.refusals import Refusal

#: the one practice exam every candidate may take at any time (see technical_test.py)
TECHNICAL_TEST_ID = uuid.UUID("6e3c0b5e-7f43-5c0d-9a51-0d6a3f0e7e57")

PDF_MAGIC = b"%PDF-"
PDF_TYPE = "application/pdf"
#: what an upload may be labelled: the signature, not the label, decides what it is
DOCUMENT_TYPES = (PDF_TYPE, "application/octet-stream")

#: the Screen Capture API's displaySurface of an entire screen ("window" and "browser" are not)
ENTIRE_SCREEN = "monitor"


class Kind(StrEnum):
    EXAM = "exam"
    TECHNICAL_TEST = "technical_test"


class ProctoringEvent(StrEnum):
    """What the exam page reports while an attempt runs: a closed list, so that coordinators
    can count and filter them."""

    FOCUS_LOST = "focus_lost"
    FOCUS_BACK = "focus_back"
    PAGE_HIDDEN = "page_hidden"
    PAGE_VISIBLE = "page_visible"
    FULLSCREEN_EXITED = "fullscreen_exited"
    SCREEN_SHARE_ENDED = "screen_share_ended"
    SCREEN_SHARE_RESUMED = "screen_share_resumed"
    WEBCAM_LOST = "webcam_lost"
    WEBCAM_BACK = "webcam_back"
    WENT_OFFLINE = "went_offline"
    BACK_ONLINE = "back_online"
    PASTE = "paste"


class StartRefusal(StrEnum):
    """Why a start is refused, in the order the candidate meets them: the time first, then
    what is prepared beforehand, then the steps of the start sequence itself."""

    OUTSIDE_START_WINDOW = "outside_start_window"
    DEVICE_CHECK_REQUIRED = "device_check_required"
    TECHNICAL_TEST_REQUIRED = "technical_test_required"
    SCREEN_SHARE_REQUIRED = "screen_share_required"
    WEBCAM_REQUIRED = "webcam_required"
    TERMS_NOT_ACCEPTED = "terms_not_accepted"


class Preparation(StrEnum):
    """What a candidate does before the day, as the dashboard lists it."""

    DEVICE_CHECK = "device_check"
    TECHNICAL_TEST = "technical_test"

    @property
    def refusal(self) -> StartRefusal:
        return StartRefusal(f"{self.value}_required")


class ExamRefusal(Refusal):
    """A rule of exams says no: ``code`` says which (``attempt_not_found``, ``time_over``,
    a ``StartRefusal``...), ``details`` the facts its message or the page may show."""


@dataclass(frozen=True)
class Requirements:
    screen_share: bool
    webcam: bool
    device_check: bool
    technical_test: bool

    def as_dict(self) -> dict[str, bool]:
        return {
            "screen_share": self.screen_share,
            "webcam": self.webcam,
            "device_check": self.device_check,
            "technical_test": self.technical_test,
        }


@dataclass(frozen=True)
class Schedule:
    """When an exam may be started and how long an attempt lasts. ``starts_at`` is None for
    the technical test, which may be started at any time."""

    starts_at: datetime | None
    duration: timedelta
    start_window: timedelta

    @property
    def start_closes_at(self) -> datetime | None:
        return None if self.starts_at is None else self.starts_at + self.start_window

    @property
    def latest_end(self) -> datetime | None:
        """The end of an attempt started at the last moment of the window."""
        closes = self.start_closes_at
        return None if closes is None else closes + self.duration

    def window_open(self, now: datetime) -> bool:
        """From ``starts_at`` included to ``starts_at + start_window`` excluded: with a
        20-minute window, 09:00:00 and 09:19:59 may start, 09:20:00 may not."""
        if self.starts_at is None:
            return True
        closes = self.start_closes_at
        assert closes is not None
        return self.starts_at <= now < closes

    def window_not_over(self, now: datetime) -> bool:
        closes = self.start_closes_at
        return closes is None or now < closes

    def ends_at(self, started_at: datetime) -> datetime:
        """Every candidate gets the full duration, however late in the window they start."""
        return started_at + self.duration


@dataclass(frozen=True)
class Standing:
    """What the candidate has prepared before the day."""

    device_valid_until: datetime | None
    technical_test_done: bool

    def device_valid_at(self, moment: datetime) -> bool:
        return self.device_valid_until is not None and moment < self.device_valid_until


@dataclass(frozen=True)
class Declaration:
    """What the exam page reports at the start: the terms, the shared surface, the webcam."""

    terms_accepted: bool
    display_surface: str | None
    webcam_ok: bool


def missing_preparations(
    requires: Requirements, standing: Standing, at: datetime
) -> list[Preparation]:
    """What the candidate must still do before the exam: a device check still valid ``at``,
    the technical test."""
    missing = []
    if requires.device_check and not standing.device_valid_at(at):
        missing.append(Preparation.DEVICE_CHECK)
    if requires.technical_test and not standing.technical_test_done:
        missing.append(Preparation.TECHNICAL_TEST)
    return missing


def start_refusals(
    schedule: Schedule,
    requires: Requirements,
    standing: Standing,
    declaration: Declaration,
    now: datetime,
) -> list[StartRefusal]:
    """Every reason to refuse this start, most fundamental first; empty when it may start."""
    refusals = []
    if not schedule.window_open(now):
        refusals.append(StartRefusal.OUTSIDE_START_WINDOW)
    refusals += [p.refusal for p in missing_preparations(requires, standing, now)]
    if requires.screen_share and declaration.display_surface != ENTIRE_SCREEN:
        refusals.append(StartRefusal.SCREEN_SHARE_REQUIRED)
    if requires.webcam and not declaration.webcam_ok:
        refusals.append(StartRefusal.WEBCAM_REQUIRED)
    if not declaration.terms_accepted:
        refusals.append(StartRefusal.TERMS_NOT_ACCEPTED)
    return refusals


def accepts_answers_until(ends_at: datetime, grace: timedelta) -> datetime:
    return ends_at + grace


def check_writable(ends_at: datetime, submitted: bool, now: datetime, grace: timedelta) -> None:
    """Answers are saved until the end of the attempt plus the grace, included."""
    if submitted:
        raise ExamRefusal("already_submitted")
    if now > accepts_answers_until(ends_at, grace):
        raise ExamRefusal("time_over", ends_at=ends_at)


def is_late(ends_at: datetime, now: datetime, grace: timedelta) -> bool:
    return now > accepts_answers_until(ends_at, grace)


def answer_digest(content: str) -> str:
    """The receipt's fingerprint of a copy: SHA-256 of its UTF-8 text, in hex."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def document_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_document(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ExamRefusal("document_too_large", max_bytes=max_bytes)
    if not data.startswith(PDF_MAGIC):
        raise ExamRefusal("document_not_pdf")


def normalise_email(address: str) -> str:
    """Compared in lower case, as identity and invitations do."""
    return address.strip().lower()
