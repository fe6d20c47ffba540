"""A candidate's exam day in Chromium: the device check, a start refused with the service's
message, the exam from the dashboard to the receipt email, and writing on through a lost
connection without losing a word. Chromium's fake media devices stand in for the webcam and
for the entire screen (headless, --use-fake-ui-for-media-stream shares a "monitor" surface)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser_kit import (
    REPO,
    Audit,
    Running,
    Visit,
    activate_by_api,
    chromium,
    new_email,
    platform,
    sign_in,
    subjects,
    visiting,
)
from playwright.sync_api import Browser, Page, Route, expect

from contracts.testing.bus import wait_until

MEDIA_ARGS = (
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
)
SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")
#: the evaluation the harness's invitations are for
EVALUATION = "MATH101-FINAL-2026"
PDF = (REPO / "services/devicecheck/src/devicecheck/sample.pdf").read_bytes()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium(MEDIA_ARGS)


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, amqp_url: str, postgres_server_url: str
) -> Iterator[Running]:
    path: Path = tmp_path_factory.mktemp("platform")
    yield from platform(path, amqp_url, postgres_server_url, SERVICES)


@pytest.fixture
def visit(browser: Browser, running: Running) -> Iterator[Visit]:
    yield from visiting(browser, running)


@dataclass
class Exam:
    id: str
    title: str
    coordinator: str


def scheduled_exam(running: Running, **requires: bool) -> Exam:
    """A coordinator of a new institution schedules an exam starting now, with its subject."""
    coordinator = running.platform.token(uuid.uuid4())
    api = running.platform.api
    answer = api("PUT", f"/api/v1/evaluations/{EVALUATION}", coordinator, json={"name": "Maths"})
    assert answer.status_code in (200, 201), answer.text
    title = f"Algebra {uuid.uuid4().hex[:6]}"
    answer = api(
        "POST",
        f"/api/v1/evaluations/{EVALUATION}/exams",
        coordinator,
        json={
            "title": title,
            "starts_at": datetime.now(UTC).isoformat(),
            "duration_minutes": 30,
            "start_window_minutes": 20,
            "requires": requires,
        },
    )
    assert answer.status_code == 201, answer.text
    exam_id = answer.json()["id"]
    answer = api(
        "PUT",
        f"/api/v1/exams/{exam_id}/document",
        coordinator,
        data=PDF,
        headers={"Content-Type": "application/pdf"},
    )
    assert answer.status_code == 200, answer.text
    return Exam(exam_id, title, coordinator)


def enrolled_candidate(visit: Visit, running: Running, exam: Exam) -> str:
    """Invited by the exam's coordinator, activated, signed in: the dashboard lists the exam
    once exams has heard of the activation."""
    email = new_email()
    activate_by_api(running, exam.coordinator, email)
    sign_in(visit, running, email)

    def listed() -> bool:
        visit.goto("/tableau-de-bord")
        return visit.page.locator(f"[data-exam='{exam.id}']").count() > 0

    wait_until(listed, 30, "the exam on the dashboard")
    return email


def share_and_accept(page: Page) -> None:
    page.get_by_role("button", name="Share my entire screen").click()
    expect(page.locator("[data-result='screen']")).to_have_class(re.compile(r"\bmet\b"))
    page.get_by_role("button", name="Turn on my webcam").click()
    expect(page.locator("[data-result='webcam']")).to_have_class(re.compile(r"\bmet\b"))
    page.get_by_label(re.compile("I will work alone")).check()
    page.get_by_role("button", name="Start exam").click()


def validate_device(page: Page) -> None:
    page.get_by_role("button", name="Share my entire screen").click()
    expect(page.locator("[data-result='screen']")).to_have_class(re.compile(r"\bmet\b"))
    page.get_by_role("button", name="Turn on my webcam").click()
    expect(page.locator("[data-result='webcam']")).to_have_class(re.compile(r"\bmet\b"))
    page.get_by_role("button", name="I can read the document").click()
    page.get_by_label("Type a few words here").fill("The quick brown fox")
    page.get_by_role("button", name="Run the check").click()


def wait_for_the_validated_device(visit: Visit) -> None:
    """The check is judged by devicecheck; exams (and so the dashboard) hears of it by event."""

    def validated() -> bool:
        visit.goto("/tableau-de-bord?onglet=device")
        return visit.page.get_by_text("Your device is validated until").count() > 0

    wait_until(validated, 30, "the validated device on the dashboard")


def test_the_device_check_passes_and_the_dashboard_says_until_when(
    visit: Visit, running: Running
) -> None:
    exam = scheduled_exam(running)
    enrolled_candidate(visit, running, exam)
    page = visit.page
    visit.goto("/tableau-de-bord?onglet=device")
    expect(page.get_by_text("Your device is not validated.")).to_be_visible()
    page.get_by_role("link", name="Validate your device").last.click()
    page.wait_for_url("**/appareil")

    validate_device(page)

    root = page.locator("[data-device-check]")
    expect(root).to_have_attribute("data-state", re.compile("passed|failed"))
    failures = page.locator("[data-failures] li").all_inner_texts()
    assert root.get_attribute("data-state") == "passed", failures
    expect(page.locator("[data-outcome]")).to_have_text("Your device is validated.")
    wait_for_the_validated_device(visit)


def test_a_candidate_without_a_device_check_is_refused_at_the_start(
    visit: Visit, running: Running
) -> None:
    exam = scheduled_exam(running, screen_share=True, webcam=True, device_check=True)
    enrolled_candidate(visit, running, exam)
    page = visit.page
    card = page.locator(f"[data-exam='{exam.id}']")
    expect(card.get_by_role("link", name="Validate your device")).to_be_visible()

    visit.goto(f"/examens/{exam.id}/commencer")
    share_and_accept(page)
    page.get_by_role("button", name="OK").click()

    refusal = page.locator("[data-refusal]")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_attribute("data-error", "device_check_required")
    assert refusal.inner_text().strip()
    # the refusal is the answer under test, not a broken resource
    visit.broken[:] = [b for b in visit.broken if not b.startswith("409 ")]


def start_from_the_dashboard(visit: Visit, running: Running, exam: Exam) -> str:
    enrolled = enrolled_candidate(visit, running, exam)
    page = visit.page
    page.locator(f"[data-exam='{exam.id}']").get_by_role("link", name="Start").click()
    page.wait_for_url(f"**/examens/{exam.id}/commencer")
    share_and_accept(page)
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/examen/*")
    expect(page.locator("[data-exam]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name=exam.title)).to_be_visible()
    # streams do not survive a page change: the exam page asks for them again
    monitoring = page.locator("[data-monitoring]")
    monitoring.get_by_role("button", name="Share my entire screen").click()
    monitoring.get_by_role("button", name="Turn on my webcam").click()
    expect(monitoring).to_be_hidden()
    return enrolled


def saved(page: Page) -> None:
    expect(page.locator("[data-saved]")).to_have_text(re.compile(r"^Saved at \d"))


def submit(page: Page) -> dict[str, str]:
    page.get_by_role("button", name="Submit my copy").click()
    page.get_by_role("button", name="Yes, submit my copy").click()
    receipt = page.locator("[data-receipt]")
    expect(receipt).to_be_visible()
    return {
        "copy_id": receipt.locator("[data-receipt-copy]").inner_text(),
        "sha256": receipt.locator("[data-receipt-sha]").inner_text(),
    }


def copy_content(running: Running, exam: Exam, copy_id: str) -> str:
    answer = running.platform.api(
        "GET", f"/api/v1/exams/{exam.id}/copies/{copy_id}", exam.coordinator
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["content"])


def test_an_exam_from_the_dashboard_to_the_receipt_email(visit: Visit, running: Running) -> None:
    exam = scheduled_exam(running, screen_share=True, webcam=True)
    email = start_from_the_dashboard(visit, running, exam)
    page = visit.page
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"Time left: \d+:\d\d"))
    page.get_by_label("Your answer").fill("x = 42 because the answer is always 42.")
    saved(page)

    receipt = submit(page)

    assert re.fullmatch(r"[0-9a-f]{64}", receipt["sha256"])
    assert copy_content(running, exam, receipt["copy_id"]) == (
        "x = 42 because the answer is always 42."
    )
    wanted = f"Receipt for your copy: {exam.title}"
    wait_until(lambda: wanted in subjects(running, email), 30, "the receipt email")
    visit.goto("/tableau-de-bord?onglet=copies")
    expect(page.get_by_text(receipt["sha256"])).to_be_visible()


def test_writing_on_through_a_minute_offline_loses_nothing(visit: Visit, running: Running) -> None:
    exam = scheduled_exam(running, screen_share=True, webcam=True)
    start_from_the_dashboard(visit, running, exam)
    page = visit.page
    editor = page.get_by_label("Your answer")
    editor.fill("First part, saved online.")
    saved(page)
    root = page.locator("[data-exam]")
    saved_revision = root.get_attribute("data-saved-revision")

    visit.context.set_offline(True)
    expect(page.locator("[data-offline]")).to_be_visible()
    expect(page.locator("[data-offline]")).to_contain_text("You are offline")
    editor.press("End")
    editor.press_sequentially(" Second part, written offline.")
    # a minute without a connection, as the issue asks: the page keeps trying to save
    page.wait_for_timeout(60_000)
    editor.press("End")
    editor.press_sequentially(" Third part, a minute later.")
    attempt = root.get_attribute("data-attempt")
    kept = page.evaluate("id => localStorage.getItem('nexam-answer-' + id)", attempt)
    assert kept is not None and "written offline" in kept
    visit.context.set_offline(False)

    expect(page.locator("[data-offline]")).to_be_hidden()
    expect(root).not_to_have_attribute("data-saved-revision", saved_revision or "")
    saved(page)
    receipt = submit(page)

    assert copy_content(running, exam, receipt["copy_id"]) == (
        "First part, saved online. Second part, written offline. Third part, a minute later."
    )
    events = running.platform.api(
        "GET", f"/api/v1/exams/{exam.id}/attempts/{attempt}/events", exam.coordinator
    )
    assert events.status_code == 200, events.text
    reported = [event["type"] for event in events.json()["items"]]
    assert "went_offline" in reported and "back_online" in reported, reported


def test_a_busy_platform_keeps_the_answer_and_the_events(visit: Visit, running: Running) -> None:
    """The relay answers 503 (identity busy at refresh time) and 429 for a while: the page
    keeps the session, says it is not saved, and sends the answer and the events it could
    not send once the platform answers again."""
    exam = scheduled_exam(running, screen_share=True, webcam=True)
    start_from_the_dashboard(visit, running, exam)
    page = visit.page
    editor = page.get_by_label("Your answer")
    editor.fill("Before.")
    saved(page)
    root = page.locator("[data-exam]")
    attempt = root.get_attribute("data-attempt")
    refused: list[str] = []

    def busy(route: Route) -> None:
        status = 503 if len(refused) % 2 == 0 else 429
        refused.append(f"{status} {route.request.url}")
        route.fulfill(
            status=status,
            headers={"Retry-After": "1"},
            json={"error": "service_unavailable", "message": "The service is unavailable."},
        )

    calls = f"**/app/api/v1/attempts/{attempt}/**"
    page.route(calls, busy)
    editor.press("End")
    editor.press_sequentially(" During.")
    page.evaluate("window.dispatchEvent(new Event('blur'))")  # a focus_lost to report
    expect(page.locator("[data-offline]")).to_be_visible()
    # the route answers only while Playwright runs: wait through it, with a deadline
    deadline = time.monotonic() + 30
    while len(refused) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(refused) >= 3, refused
    page.unroute(calls)

    expect(page.locator("[data-offline]")).to_be_hidden()
    saved(page)
    receipt = submit(page)
    # the refusals were the condition under test, not broken resources
    visit.broken[:] = [b for b in visit.broken if not b.startswith(("503 ", "429 "))]
    assert copy_content(running, exam, receipt["copy_id"]) == "Before. During."
    events = running.platform.api(
        "GET", f"/api/v1/exams/{exam.id}/attempts/{attempt}/events", exam.coordinator
    )
    assert events.status_code == 200, events.text
    assert "focus_lost" in [event["type"] for event in events.json()["items"]]


#: Chromium's fake capture always shares a "monitor": this makes it report a window instead
SHARE_A_WINDOW = """
const share = MediaDevices.prototype.getDisplayMedia;
MediaDevices.prototype.getDisplayMedia = async function (constraints) {
  const stream = await share.call(this, constraints);
  const track = stream.getVideoTracks()[0];
  const settings = track.getSettings.bind(track);
  track.getSettings = () => ({ ...settings(), displaySurface: "window" });
  return stream;
};
"""


def test_sharing_a_window_instead_of_the_entire_screen_is_refused(
    visit: Visit, running: Running
) -> None:
    exam = scheduled_exam(running, screen_share=True, webcam=True)
    enrolled_candidate(visit, running, exam)
    page = visit.page
    page.add_init_script(SHARE_A_WINDOW)
    visit.goto(f"/examens/{exam.id}/commencer")
    page.get_by_role("button", name="Share my entire screen").click()
    expect(page.locator("[data-result='screen']")).to_have_class(re.compile(r"\bunmet\b"))
    page.get_by_role("button", name="Turn on my webcam").click()
    expect(page.locator("[data-result='webcam']")).to_have_class(re.compile(r"\bmet\b"))
    page.get_by_label(re.compile("I will work alone")).check()
    page.get_by_role("button", name="Start exam").click()
    page.get_by_role("button", name="OK").click()

    refusal = page.locator("[data-refusal]")
    expect(refusal).to_have_attribute("data-error", "screen_share_required")
    assert refusal.inner_text().strip()
    visit.broken[:] = [b for b in visit.broken if not b.startswith("409 ")]


def test_the_same_exam_in_another_tab_is_told_it_is_stale(visit: Visit, running: Running) -> None:
    exam = scheduled_exam(running, screen_share=True, webcam=True)
    start_from_the_dashboard(visit, running, exam)
    page = visit.page
    other = visit.context.new_page()
    other.goto(page.url)
    expect(other.locator("[data-exam]")).to_have_attribute("data-ready", "true")

    page.get_by_label("Your answer").fill("Written in the first tab.")
    saved(page)
    other.get_by_label("Your answer").fill("Written in the second tab.")

    expect(other.locator("[data-saved]")).to_have_text(
        re.compile("This exam is open in another tab or window")
    )
    visit.broken[:] = [b for b in visit.broken if not b.startswith("409 ")]


@pytest.fixture
def audited_visit(browser: Browser, running: Running) -> Iterator[Visit]:
    # axe-core is injected by the test, which the pages' CSP would refuse
    yield from visiting(browser, running, bypass_csp=True)


def test_the_exam_pages_are_accessible_on_a_phone_and_a_desktop(
    audited_visit: Visit, running: Running
) -> None:
    visit = audited_visit
    page = visit.page
    audit = Audit(page)
    exam = scheduled_exam(running, screen_share=True, webcam=True, device_check=True)
    enrolled_candidate(visit, running, exam)
    audit("dashboard-exams:upcoming")
    visit.goto("/tableau-de-bord?onglet=device")
    audit("dashboard-device:not-validated")

    visit.goto("/appareil")
    audit("device-check")
    validate_device(page)
    expect(page.locator("[data-device-check]")).to_have_attribute("data-state", "passed")
    audit("device-check:passed")
    wait_for_the_validated_device(visit)
    audit("dashboard-device:validated")

    visit.goto(f"/examens/{exam.id}/commencer")
    audit("exam-start")
    page.get_by_role("button", name="Start exam").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("[data-refusal]")).to_be_visible()
    audit("exam-start:refused")
    visit.broken[:] = [b for b in visit.broken if not b.startswith("409 ")]

    share_and_accept(page)
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/examen/*")
    expect(page.locator("[data-exam]")).to_have_attribute("data-ready", "true")
    audit("exam")
    page.get_by_label("Your answer").fill("An accessible answer.")
    saved(page)
    submit(page)
    audit("exam:submitted")
    visit.goto("/tableau-de-bord?onglet=copies")
    audit("dashboard-copies:submitted")
    audit.assert_clean()


def test_the_technical_test_from_the_dashboard_marks_it_done(
    visit: Visit, running: Running
) -> None:
    exam = scheduled_exam(running, technical_test=True)
    enrolled_candidate(visit, running, exam)
    page = visit.page
    # the technical test asks for a validated device, like an exam may
    visit.goto("/appareil")
    validate_device(page)
    expect(page.locator("[data-device-check]")).to_have_attribute("data-state", "passed")
    wait_for_the_validated_device(visit)
    visit.goto("/tableau-de-bord?onglet=technical-test")
    expect(
        page.get_by_text("The technical test is required for one of your exams.")
    ).to_be_visible()
    expect(page.get_by_text("You have not done the technical test yet.")).to_be_visible()
    page.get_by_role("link", name="Start the technical test").click()
    page.wait_for_url("**/test-technique/commencer")
    share_and_accept(page)
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/examen/*")
    expect(page.locator("[data-exam]")).to_have_attribute("data-ready", "true")
    page.get_by_label("Your answer").fill("Practice makes perfect.")
    saved(page)
    submit(page)

    def done() -> bool:
        visit.goto("/tableau-de-bord?onglet=technical-test")
        return page.get_by_text("You have done the technical test.").count() > 0

    wait_until(done, 30, "the technical test done on the dashboard")
