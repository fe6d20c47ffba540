"""What goes wrong on the way in, and the account's own pages, in Chromium: an unknown
invitation code, the password rules, the wait before a new code, the lock after failed
passwords, a forgotten password, a new one from the profile, signing out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import (
    PASSWORD,
    Running,
    Visit,
    active_account,
    chromium,
    error_summary,
    invite,
    new_email,
    next_link,
    platform,
    sign_in,
    visiting,
)
from playwright.sync_api import Browser, Page, expect

NEW_PASSWORD = "Quiet-Lantern-42-Orchard"
WRONG_CREDENTIALS = "Wrong email address or password."


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
    yield from visiting(browser, running)


def submit(page: Page, field: str) -> None:
    """The submit button of the form that holds ``#field``."""
    page.locator(f"form:has(#{field}) button[type=submit]").click()
    page.wait_for_load_state()


def sign_in_attempt(page: Page, email: str, password: str) -> int:
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_response(re.compile(r"/connexion$")) as answer:
        submit(page, "password")
    return answer.value.status


def test_an_unknown_invitation_code_says_what_to_do_next(visit: Visit) -> None:
    page = visit.page
    visit.goto("/connexion/code-invitation")
    page.get_by_role("button", name="Activate").click()
    assert error_summary(page) == ["Enter the invitation code from the email."]
    expect(page.get_by_role("heading", name="What to do next")).to_have_count(0)

    page.get_by_label("Invitation code").fill("7KQ2-M9XD-4PRT-WZ3H")
    with page.expect_response(re.compile(r"/connexion/code-invitation$")) as answer:
        page.get_by_role("button", name="Activate").click()
    assert answer.value.status == 404
    assert error_summary(page) == ["Invitation code does not exist or has expired"]
    code = page.get_by_label("Invitation code")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_value("7KQ2-M9XD-4PRT-WZ3H")
    help_panel = page.locator("section", has=page.get_by_role("heading", name="What to do next"))
    expect(help_panel).to_be_visible()
    expect(help_panel.get_by_role("link", name="Sign in")).to_have_attribute("href", "/connexion")
    expect(help_panel.get_by_role("link", name="Forgot password")).to_have_attribute(
        "href", "/connexion/mot-de-passe-oublie"
    )
    expect(help_panel).to_contain_text("ask your evaluation coordinator for a new invitation")
    expect(help_panel).to_contain_text("Still stuck? Write to")

    # the summary takes the focus on arrival; its line takes it to the field
    expect(page.locator("[data-error-summary]")).to_be_focused()
    page.locator("[data-error-summary] a").click()
    expect(code).to_be_focused()


def checklist(page: Page) -> dict[str, str]:
    """Each rule of the password checklist: met, unmet or not yet said."""
    states = {}
    for item in page.locator("[data-rule]").all():
        classes = (item.get_attribute("class") or "").split()
        state = "met" if "met" in classes else "unmet" if "unmet" in classes else ""
        states[str(item.get_attribute("data-rule"))] = state
    return states


def test_the_password_rules_follow_typing_and_the_server_names_every_broken_one(
    visit: Visit, running: Running
) -> None:
    page = visit.page
    page.goto(invite(running, new_email()))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/activation/mot-de-passe")
    password = page.get_by_label("Password", exact=True)
    assert set(checklist(page).values()) == {""}

    typed = {
        "a": {"min_length": "unmet", "uppercase": "unmet", "lowercase": "met", "digit": "unmet"},
        "B": {"uppercase": "met"},
        "3": {"digit": "met"},
        "cdefg": {"min_length": "met"},
    }
    expected = {"max_length": "met"}
    for keys, changes in typed.items():
        password.press_sequentially(keys)
        expected.update(changes)
        assert checklist(page) == expected, keys
    password.press("Backspace")
    assert checklist(page)["min_length"] == "unmet"
    # not by colour alone: a sign for the eye, words for screen readers
    digit = page.locator("[data-rule='digit']")
    expect(digit.locator(".rule-sign")).to_have_text("✓")
    expect(digit.locator(".rule-state")).to_have_text("Done:")
    expect(digit.locator(".rule-state")).to_have_class(re.compile(r"\bvisually-hidden\b"))
    expect(page.locator("[data-rule='min_length'] .rule-state")).to_have_text("To do:")

    password.fill("password")
    with page.expect_response(re.compile(r"/activation/mot-de-passe$")) as answer:
        page.get_by_role("button", name="Continue").click()
    assert answer.value.status == 400
    assert error_summary(page) == [
        "At least one uppercase letter.",
        "At least one digit.",
        "This password is too common. Choose another one.",
    ]
    # the server's answer marks every rule, the script having nothing typed to go by
    assert checklist(page) == {
        "min_length": "met",
        "uppercase": "unmet",
        "lowercase": "met",
        "digit": "unmet",
        "max_length": "met",
    }
    expect(page.locator("[data-rule='uppercase']")).to_have_text("✗ To do: One uppercase letter")
    expect(page.get_by_text("This password is too common. Choose another one.")).to_have_count(2)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_value("")
    page.locator("[data-error-summary] a").first.click()
    expect(password).to_be_focused()

    password.fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/activation/langue")


def countdown(page: Page, form: str) -> int:
    """The seconds the countdown beside ``form``'s button shows."""
    text = page.locator(f"{form} [data-cooldown-status]").inner_text()
    found = re.fullmatch(r"Send a new code in (\d+) s", text.strip())
    assert found, text
    return int(found.group(1))


def assert_counting_down(page: Page, form: str) -> None:
    button = page.locator(f"{form} button[type=submit]")
    expect(button).to_be_disabled()
    expect(page.locator(f"{form} [data-cooldown-status]")).to_have_text(
        re.compile(r"Send a new code in \d+ s")
    )
    first = countdown(page, form)
    assert 0 < first <= 30
    page.wait_for_function(
        """([form, first]) => {
            const text = document.querySelector(form + ' [data-cooldown-status]').textContent;
            const seconds = parseInt(text.replace(/\\D+/g, ''), 10);
            return seconds < first;
        }""",
        arg=[form, first],
    )
    expect(button).to_be_disabled()


def force_submit(page: Page, form: str) -> None:
    """What a browser without the script would send: the button as it is without it."""
    page.locator(f"{form} button[type=submit]").evaluate("b => { b.disabled = false; }")
    page.locator(f"{form} button[type=submit]").click()
    page.wait_for_load_state()


def test_a_new_code_waits_for_the_countdown(visit: Visit, running: Running) -> None:
    page = visit.page
    resend = "form[action$='/envoyer']"
    page.goto(invite(running, new_email()))
    page.get_by_role("button", name="Activate").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/activation/langue")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I accept the Terms of Use and the Privacy Policy").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/activation/double-authentification")
    expect(page.locator(f"{resend} button")).to_be_enabled()
    page.get_by_role("button", name="Send me a code by email").click()
    expect(page.get_by_role("button", name="Send a new code")).to_be_visible()
    assert_counting_down(page, resend)
    force_submit(page, resend)
    assert len(error_summary(page)) == 1
    assert re.fullmatch(
        r"A code was just sent\. Try again in \d+ seconds?\.", error_summary(page)[0]
    ), error_summary(page)
    assert_counting_down(page, resend)

    # the same on the sign-in code page
    email = active_account(running)
    visit.goto("/connexion")
    sign_in_attempt(page, email, PASSWORD)
    page.wait_for_url("**/connexion/code")
    assert_counting_down(page, "form[action$='/renvoyer']")


def test_five_wrong_passwords_then_a_lock_with_the_wait_in_words(
    visit: Visit, running: Running
) -> None:
    page = visit.page
    email = active_account(running)
    visit.goto("/connexion")
    for attempt in range(5):
        assert sign_in_attempt(page, email, f"Not-the-password-{attempt}") == 400
        assert error_summary(page) == [WRONG_CREDENTIALS], attempt
    assert sign_in_attempt(page, email, "Not-the-password-5") == 429
    [message] = error_summary(page)
    assert re.fullmatch(r"Too many attempts\. Try again in [12] seconds?\.", message), message
    expect(page.get_by_label("Email address")).to_have_value(email)


def test_forgotten_password_by_email_then_sign_in_with_the_new_one(
    visit: Visit, running: Running
) -> None:
    page = visit.page
    email = active_account(running)
    visit.goto("/connexion")
    page.get_by_role("link", name="Forgot password").click()
    page.wait_for_url("**/connexion/mot-de-passe-oublie")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("status")).to_contain_text("It works for 60 minutes.")

    link = next_link(running, email, "/connexion/reset-password")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url("**/connexion")
    expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed. Sign in with the new one."
    )

    assert sign_in_attempt(page, email, PASSWORD) == 400
    assert error_summary(page) == [WRONG_CREDENTIALS]
    sign_in(visit, running, email, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Ada")

    # the link worked once
    page.goto(link)
    page.get_by_label("New password").fill("Another-Fresh-81-Meadow")
    page.get_by_role("button", name="Change my password").click()
    assert error_summary(page) == [
        "This link is no longer valid. Ask for a new one from the sign-in page."
    ]


def test_change_the_password_from_the_profile_then_sign_out(visit: Visit, running: Running) -> None:
    page = visit.page
    email = active_account(running)
    sign_in(visit, running, email)
    page.get_by_role("link", name="Profile").click()
    page.wait_for_url("**/profil")
    expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    expect(page.locator(".details")).to_contain_text(email)

    page.get_by_label("Current password").fill("Not-my-password-1")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    assert error_summary(page) == ["The current password is wrong."]
    page.locator("[data-error-summary] a").click()
    expect(page.get_by_label("Current password")).to_be_focused()

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("weak")
    page.get_by_role("button", name="Change password").click()
    assert error_summary(page) == [
        "At least 8 characters.",
        "At least one uppercase letter.",
        "At least one digit.",
        "This password is too common. Choose another one.",
    ]

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/profil")
    expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed. Your other sessions have been signed out."
    )

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/connexion")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    visit.goto("/tableau-de-bord")
    page.wait_for_url("**/connexion")
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Sign in again.")

    assert sign_in_attempt(page, email, PASSWORD) == 400
    sign_in(visit, running, email, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Ada")
