"""A candidate in Chromium, from the invitation email to the dashboard: with the mouse in
English and in French, and with the keyboard alone. Every code and link comes from the email
it arrived in, at the test's SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import (
    CATALOG,
    PASSWORD,
    Running,
    Visit,
    activate,
    chromium,
    french,
    invite,
    new_email,
    next_code,
    one_time_codes,
    platform,
    sign_in,
    subjects,
    tab_to,
    visiting,
)
from playwright.sync_api import Browser, expect

AFTER_THE_LANGUAGE_STEP = ("activation-terms", "activation-two-factor")
ACTIVATED = "Your account is activated. Sign in with your email address and password."


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


def assert_secure_pages(visit: Visit) -> None:
    """DESIGN section 5 on every document the browser loaded, and on the session cookie."""
    assert visit.documents
    for response in visit.documents:
        headers = response.headers
        policy = headers.get("content-security-policy", "")
        where = f"{response.request.method} {response.url} ({response.status})"
        assert "script-src 'self'" in policy, where
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
        assert "frame-ancestors 'none'" in policy, where
        assert headers.get("x-frame-options") == "DENY", where
        assert headers.get("x-content-type-options") == "nosniff", where
        assert headers.get("referrer-policy") == "no-referrer", where
        assert headers.get("cache-control") == "no-store", where
    cookies = [c for c in visit.context.cookies() if c["name"] in ("nexam", "__Host-nexam")]
    assert len(cookies) == 1, visit.context.cookies()
    assert cookies[0]["httpOnly"] is True
    assert cookies[0]["sameSite"] == "Lax"
    assert cookies[0]["path"] == "/"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_from_the_invitation_email_to_the_dashboard(
    visit: Visit, running: Running, language: str
) -> None:
    page = visit.page
    email = new_email()
    translated = french().gettext if language == "fr" else str
    seen: list[str] = []

    def on_page(name: str) -> None:
        seen.append(name)
        expected = language if name.startswith(AFTER_THE_LANGUAGE_STEP) else "en"
        expect(page.locator("html")).to_have_attribute("lang", expected)
        if name == "activation-terms":
            expect(page.get_by_role("heading", level=1)).to_have_text(
                translated("Accept the terms")
            )
        if name == "activation-two-factor":
            expect(page.get_by_role("heading", level=1)).to_have_text(
                translated("Two-factor authentication")
            )
            # the switcher offers the other language, named in that language
            switch = page.get_by_role("button", name="English" if language == "fr" else "Français")
            expect(switch).to_be_visible()

    activate(visit, running, email, language=language, on_page=on_page)
    assert seen[-1] == "activation-two-factor:sent"

    if language == "fr" and CATALOG.is_file():
        # compiled, the catalog really puts the pages in French, not just marks them so
        assert translated("Sign in") != "Sign in"

    # taken to sign-in, with the confirmation said once and in the chosen language
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("Sign in"))
    expect(page.get_by_text(translated(ACTIVATED))).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text=translated(ACTIVATED))).to_be_visible()

    def on_code_page(_name: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            translated("Enter the code sent by email")
        )

    sign_in(visit, running, email, on_page=on_code_page)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        translated("Hello %(name)s") % {"name": "Ada"}
    )
    expect(page.get_by_role("link", name=translated("Validate your device"))).to_be_visible()
    assert page.title() == f"{translated('Upcoming exams')} – {translated('Dashboard')} – Nexam"

    # the emails followed the choice: both codes came after the language step
    code_subjects = subjects(running, email)[1:]
    expected_subject = (
        "Votre code de vérification Nexam" if language == "fr" else "Your Nexam verification code"
    )
    assert code_subjects.count(expected_subject) == 2, code_subjects
    assert_secure_pages(visit)


def test_activation_and_sign_in_with_the_keyboard_alone(visit: Visit, running: Running) -> None:
    """Tab, Shift+Tab, Space and Enter only, and the focus always shows."""
    page = visit.page
    keyboard = page.keyboard
    email = new_email()
    page.goto(invite(running, email))

    # the code is filled in from the link
    expect(page.locator("#code")).not_to_have_value("")
    tab_to(page, page.get_by_role("button", name="Activate"))
    keyboard.press("Enter")
    page.wait_for_url("**/activation/mot-de-passe")

    password = page.locator("#password")
    tab_to(page, password)
    keyboard.type(PASSWORD)
    tab_to(page, page.get_by_label("Show the password"))
    keyboard.press("Space")
    expect(password).to_have_attribute("type", "text")
    tab_to(page, password, backwards=True)
    expect(password).to_have_value(PASSWORD)
    tab_to(page, page.get_by_role("button", name="Continue"))
    keyboard.press("Enter")
    page.wait_for_url("**/activation/langue")

    tab_to(page, page.locator("#language-en"))
    keyboard.press("Space")
    expect(page.locator("#language-en")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continue"))
    keyboard.press("Enter")
    page.wait_for_url("**/activation/conditions")

    accept = page.get_by_label("I accept the Terms of Use and the Privacy Policy")
    tab_to(page, accept)
    keyboard.press("Space")
    expect(accept).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continue"))
    keyboard.press("Enter")
    page.wait_for_url("**/activation/double-authentification")

    known = len(one_time_codes(running, email))
    tab_to(page, page.get_by_role("button", name="Send me a code by email"))
    keyboard.press("Enter")
    expect(page.locator("#code")).to_be_visible()
    tab_to(page, page.locator("#code"))
    keyboard.type(next_code(running, email, known))
    tab_to(page, page.get_by_role("button", name="Activate two-factor authentication"))
    keyboard.press("Enter")
    page.wait_for_url("**/connexion?activated=1")
    expect(page.get_by_role("status").filter(has_text=ACTIVATED)).to_be_visible()

    # sign in the same way: Enter in a field submits its form
    known = len(one_time_codes(running, email))
    tab_to(page, page.get_by_label("Email address"))
    keyboard.type(email)
    tab_to(page, page.get_by_label("Password", exact=True))
    keyboard.type(PASSWORD)
    keyboard.press("Enter")
    page.wait_for_url("**/connexion/code")
    tab_to(page, page.locator("#code"))
    keyboard.type(next_code(running, email, known))
    keyboard.press("Enter")
    page.wait_for_url("**/tableau-de-bord")

    # the skip link is the first stop and takes the focus to the content
    tab_to(page, page.get_by_role("link", name="Skip to main content"), limit=1)
    keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    tab_to(page, page.get_by_role("link", name="Validate your device"))
    keyboard.press("Enter")
    page.wait_for_url("**/tableau-de-bord?onglet=device")
    expect(page.get_by_role("heading", level=2)).to_have_text("Validate your device")
