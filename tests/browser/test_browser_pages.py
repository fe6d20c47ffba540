"""Every page a candidate meets, in each of its states, checked in Chromium: axe-core finds
no serious or critical problem at 360 px and at desktop size, nothing scrolls sideways on a
small phone, each page has its own title and its language, every error is summarised at the
top with a link that takes the focus to its field; and a screenshot of each under
var/screenshots/ (UPDATE_DOCS_SCREENSHOTS=1 also refreshes the README's, in docs/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import (
    Audit,
    Running,
    Visit,
    activate,
    chromium,
    error_summary,
    new_email,
    next_link,
    platform,
    screenshot_for_docs,
    sign_in,
    visiting,
)
from playwright.sync_api import Browser, Page, expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, amqp_url: str, postgres_server_url: str
) -> Iterator[Running]:
    path: Path = tmp_path_factory.mktemp("platform")
    yield from platform(path, amqp_url, postgres_server_url)


@pytest.fixture
def visit(browser: Browser, running: Running) -> Iterator[Visit]:
    # axe-core is injected by the test, which the pages' CSP would refuse
    yield from visiting(browser, running, bypass_csp=True)


def submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def assert_summary_leads_to_fields(page: Page) -> int:
    """The summary sits above the heading; each of its links takes the focus to its field."""
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    summary_box = summary.bounding_box()
    heading_box = page.get_by_role("heading", level=1).bounding_box()
    assert summary_box and heading_box and summary_box["y"] < heading_box["y"]
    links = summary.locator("a")
    for index in range(links.count()):
        target = str(links.nth(index).get_attribute("href")).removeprefix("#")
        links.nth(index).click()
        expect(page.locator(f"[id='{target}']")).to_be_focused()
    return links.count()


def test_every_page_is_accessible_on_a_phone_and_a_desktop(visit: Visit, running: Running) -> None:
    page = visit.page
    audit = Audit(page)

    visit.goto("/connexion")
    audit("sign-in")
    screenshot_for_docs(page, "sign-in")
    submit(page, "Sign in")
    assert error_summary(page) == ["Enter your email address.", "Enter your password."]
    audit("sign-in:errors")
    assert assert_summary_leads_to_fields(page) == 2

    visit.goto("/connexion/code-invitation")
    audit("code-entry")
    page.get_by_label("Invitation code").fill("7KQ2-M9XD-4PRT-WZ3H")
    submit(page, "Activate")
    expect(page.get_by_role("heading", name="What to do next")).to_be_visible()
    audit("code-entry:invalid")
    assert assert_summary_leads_to_fields(page) == 1

    def on_activation_page(name: str) -> None:
        audit(name)
        if name == "activation-password":
            page.get_by_label("Password", exact=True).press_sequentially("Correct-Horse")
            screenshot_for_docs(page, "activation")
            page.get_by_label("Password", exact=True).fill("password")
            submit(page, "Continue")
            audit("activation-password:errors")
            assert assert_summary_leads_to_fields(page) == 3
        if name == "activation-terms":
            submit(page, "Continue")
            audit("activation-terms:errors")
            assert assert_summary_leads_to_fields(page) == 1

    email = new_email("ada.lovelace")
    activate(visit, running, email, on_page=on_activation_page)
    audit("sign-in:activated")

    def on_code_page(name: str) -> None:
        audit(name)
        page.get_by_label("Verification code").fill("000000")
        submit(page, "Sign in")
        audit(f"{name}:errors")
        assert assert_summary_leads_to_fields(page) == 1

    sign_in(visit, running, email, on_page=on_code_page)
    audit("dashboard-exams")
    screenshot_for_docs(page, "dashboard")
    for tab, name in (
        ("copies", "Submitted copies"),
        ("technical-test", "Technical test"),
        ("device", "Validate your device"),
    ):
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"**/tableau-de-bord?onglet={tab}")
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        audit(f"dashboard-{tab}")

    page.get_by_role("link", name="Profile").click()
    audit("profile")
    submit(page, "Change password")
    audit("profile:errors")
    assert assert_summary_leads_to_fields(page) >= 1
    page.get_by_role("link", name="Terms of Use").click()
    audit("terms")
    page.get_by_role("link", name="Privacy Policy").click()
    audit("privacy")
    submit(page, "Sign out")
    audit("sign-in:signed-out")

    page.get_by_role("link", name="Forgot password").click()
    audit("forgot")
    submit(page, "Send the link")
    audit("forgot:errors")
    assert assert_summary_leads_to_fields(page) == 1
    page.get_by_label("Email address").fill(email)
    submit(page, "Send the link")
    audit("forgot-sent")
    page.goto(next_link(running, email, "/connexion/reset-password"))
    audit("reset")
    page.get_by_label("New password").fill("short")
    submit(page, "Change my password")
    audit("reset:errors")
    assert assert_summary_leads_to_fields(page) >= 2

    # in French too, switched from the header, the link's token kept
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("input[name=token]")).not_to_have_value("")
    audit("reset:fr", other_language=True)

    audit.assert_clean()
