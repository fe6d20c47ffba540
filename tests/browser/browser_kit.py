"""What the browser tests share: Debian's Chromium driven by Playwright, the platform of
tests/harness.py on PostgreSQL and RabbitMQ for a whole test module, reading links and codes
from the emails, axe-core injected into each page, keyboard focus, and screenshots.

Imported by name from the tests beside it (pytest's prepend mode puts this folder on
sys.path); it puts tests/ there too, for the harness and the API journey."""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    sync_playwright,
)
from sqlalchemy import create_engine, make_url, text

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from harness import Running, run_platform, text_of  # noqa: E402
from journey import PASSWORD, next_code, one_time_codes  # noqa: E402
from journey import activate as activate_by_api  # noqa: E402

from contracts.testing.bus import wait_until  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
CATALOG = REPO / "gateway/src/gateway/web/translations/fr/LC_MESSAGES/messages.mo"

MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
#: Playwright's own waits (an element, a navigation) give up after this many milliseconds
WAIT_MS = 15_000


def missing(what: str) -> None:
    """Skip, or fail under REQUIRE_REAL_SERVICES=1, as the root conftest does for services."""
    reason = f"{what} is not available"
    if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
    pytest.skip(reason)


def require_chromium() -> None:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        missing(f"Chromium ({CHROMIUM}; on Debian: apt-get install chromium)")


def chromium(extra_args: tuple[str, ...] = ()) -> Iterator[Browser]:
    """One headless Chromium for a test module."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def platform(
    tmp_path: Path,
    amqp_url: str,
    postgres_server_url: str,
    services: tuple[str, ...] = ("identity", "invitations", "notifier"),
    env: dict[str, str] | None = None,
) -> Iterator[Running]:
    """The platform for a whole module (each test uses its own email address): a fresh
    PostgreSQL database per service, dropped afterwards."""
    require_chromium()
    server = make_url(postgres_server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def database(_service: str) -> str:
        name = f"nexam_browser_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield from run_platform(tmp_path, amqp_url, database, services, env)
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Visit:
    """A browser context and its page, with what the test must find wrong at the end: the
    console's errors (a CSP refusal shows there) and the files that did not load; and every
    document the page loaded, for their headers."""

    context: BrowserContext
    page: Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)
    #: a stylesheet, script or image that did not load
    broken: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str) -> Response | None:
        return self.page.goto(self.url(path))


def open_visit(browser: Browser, running: Running, *, bypass_csp: bool = False) -> Visit:
    context = browser.new_context(
        viewport=DESKTOP, bypass_csp=bypass_csp, locale="en-GB", reduced_motion="reduce"
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    visit = Visit(context, page, running.platform.gateway)

    def console(message: ConsoleMessage) -> None:
        # a page answered 400 or 404 on purpose is logged too: resources are checked below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            visit.console_errors.append(message.text)

    def response(answer: Response) -> None:
        if answer.request.resource_type == "document":
            if answer.frame == page.main_frame:
                visit.documents.append(answer)
        elif answer.status >= 400:
            visit.broken.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("response", response)

    def failed(request: Request) -> None:
        # Chromium's own PDF viewer (a subject in a frame) is not one of the page's files
        if not request.url.startswith("chrome-extension://"):
            visit.broken.append(f"{request.failure} {request.url}")

    page.on("requestfailed", failed)
    return visit


def visiting(browser: Browser, running: Running, *, bypass_csp: bool = False) -> Iterator[Visit]:
    visit = open_visit(browser, running, bypass_csp=bypass_csp)
    try:
        yield visit
        assert not visit.console_errors, visit.console_errors
        assert not visit.broken, visit.broken
    finally:
        visit.context.close()


# --- emails -----------------------------------------------------------------------------


def new_email(prefix: str = "candidate") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def links_to(running: Running, email: str, path: str) -> list[str]:
    """Every link to ``path`` in the emails to ``email``, made to point at the test's
    gateway instead of PUBLIC_URL (path and query kept)."""
    public_url = running.platform.public_url
    links = re.compile(re.escape(public_url) + r"/[^\s<>\"']+")
    found = []
    for message in running.mail.messages(email):
        for link in links.findall(text_of(message)):
            if link.startswith(public_url + path):
                found.append(link)
    return found


def next_link(running: Running, email: str, path: str, known: int = 0) -> str:
    wait_until(
        lambda: len(links_to(running, email, path)) > known, 30, f"an email linking to {path}"
    )
    link = links_to(running, email, path)[known]
    return running.platform.gateway + link.removeprefix(running.platform.public_url)


def invite(running: Running, email: str, language: str = "en") -> str:
    """A coordinator invites ``email``; the link of the invitation email."""
    running.platform.invite(running.platform.token(uuid.uuid4()), email, language)
    return next_link(running, email, "/connexion/code-invitation")


def active_account(running: Running, password: str = PASSWORD) -> str:
    """A new candidate, invited and activated through the API: its email address."""
    email = new_email()
    activate_by_api(running, running.platform.token(uuid.uuid4()), email, password=password)
    return email


def subjects(running: Running, email: str) -> list[str]:
    return [str(m["Subject"]) for m in running.mail.messages(email)]


# --- the pages, as a candidate uses them ------------------------------------------------


def click_and_wait(page: Page, target: Locator, url: str | re.Pattern[str]) -> None:
    target.click()
    page.wait_for_url(url)


def activate(
    visit: Visit,
    running: Running,
    email: str,
    *,
    language: str = "en",
    password: str = PASSWORD,
    on_page: Callable[[str], None] = lambda _name: None,
) -> None:
    """From the invitation email's link to the sign-in page, with the mouse; ``on_page`` is
    called on each page on the way (an accessibility audit, a screenshot). Controls are found
    by their place once the language may have changed, not by their English names."""
    page = visit.page
    page.goto(invite(running, email))
    on_page("code-entry:filled")
    click_and_wait(page, page.get_by_role("button", name="Activate"), "**/activation/mot-de-passe")
    on_page("activation-password")
    page.get_by_label("Password", exact=True).fill(password)
    click_and_wait(page, page.get_by_role("button", name="Continue"), "**/activation/langue")
    on_page("activation-language")
    page.locator("#language-" + language).check()
    page.locator("form:has(#language-en) button[type=submit]").click()
    page.wait_for_url("**/activation/conditions")
    on_page("activation-terms")
    page.locator("#accept").check()
    page.locator("form:has(#accept) button[type=submit]").click()
    page.wait_for_url("**/activation/double-authentification")
    on_page("activation-two-factor")
    known = len(one_time_codes(running, email))
    page.locator("form[action$='/envoyer'] button[type=submit]").click()
    page.wait_for_url("**/activation/double-authentification")
    on_page("activation-two-factor:sent")
    page.locator("#code").fill(next_code(running, email, known))
    page.locator("form:has(#code) button[type=submit]").click()
    page.wait_for_url("**/connexion?activated=1")


def sign_in(
    visit: Visit,
    running: Running,
    email: str,
    password: str = PASSWORD,
    *,
    on_page: Callable[[str], None] = lambda _name: None,
) -> None:
    """Email and password, then the code from the next email: the dashboard."""
    page = visit.page
    if "/connexion" not in page.url or "/connexion/" in page.url:
        visit.goto("/connexion")
    known = len(one_time_codes(running, email))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form:has(#password) button[type=submit]").click()
    page.wait_for_url("**/connexion/code")
    on_page("sign-in-code")
    page.locator("#code").fill(next_code(running, email, known))
    page.locator("form:has(#code) button[type=submit]").click()
    page.wait_for_url("**/tableau-de-bord")


def error_summary(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("[data-error-summary] li").all_inner_texts()]


# --- the keyboard ---------------------------------------------------------------------


def is_focused(target: Locator) -> bool:
    return bool(target.evaluate("el => el === document.activeElement"))


def focus_ring(page: Page) -> dict[str, Any]:
    """How the focused element shows its focus."""
    ring: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                element: el.outerHTML.slice(0, 120),
                focusVisible: el.matches(':focus-visible'),
                outlineStyle: style.outlineStyle,
                outlineWidth: parseFloat(style.outlineWidth),
                outlineColor: style.outlineColor,
            };
        }"""
    )
    return ring


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(css_color: str) -> float:
    numbers = tuple(float(n) for n in re.findall(r"[\d.]+", css_color))
    return 1.05 / (_luminance(numbers) + 0.05)


def assert_focus_visible(page: Page) -> None:
    ring = focus_ring(page)
    assert ring["focusVisible"], ring
    assert ring["outlineStyle"] not in ("none", "hidden") and ring["outlineWidth"] >= 2, ring
    # WCAG 2.2 focus appearance: the ring stands out 3:1 from the white page
    assert contrast_with_white(ring["outlineColor"]) >= 3, ring


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus, which must show."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if is_focused(target):
            assert_focus_visible(page)
            return
    raise AssertionError(f"{key} x{limit} never reached {target}")


# --- what every page must be --------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page. axe is evaluated through the
    browser's debugging protocol, which the pages' CSP does not govern, so pages can be
    checked with their CSP in force (a partner button's form-action among it)."""
    if not AXE.is_file():
        missing(f"axe-core ({AXE.relative_to(REPO)}: run `npm ci --prefix tests/browser`)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    results: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            resultTypes: ['violations'],
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'wcag22aa', 'best-practice']},
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def scroll_width(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path


def screenshot_for_docs(page: Page, name: str) -> None:
    """The README's pictures, refreshed only on request (UPDATE_DOCS_SCREENSHOTS=1): they
    are committed, and each run shows a different address."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    path = screenshot(page, f"docs-{name}", full_page=False)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")


@dataclass
class Audit:
    """Each page checked at 360 px and at desktop size: axe-core, no sideways scrolling at
    360 px, its language and title; then its screenshots."""

    page: Page
    titles: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __call__(self, name: str, *, other_language: bool = False) -> None:
        page = self.page
        for size, label in ((MOBILE, "360"), (DESKTOP, "desktop")):
            page.set_viewport_size(size)
            for violation in axe_violations(page):
                self.problems.append(f"{name} at {label}: {json.dumps(violation)}")
            if size is MOBILE:
                width = scroll_width(page)
                if width > MOBILE["width"]:
                    self.problems.append(f"{name}: scrolls sideways at 360 px ({width} px)")
                screenshot(page, f"{name.replace(':', '-')}-360")
        screenshot(page, name.replace(":", "-"))
        if not page.evaluate("() => document.documentElement.lang"):
            self.problems.append(f"{name}: no lang on <html>")
        # a page in another state (with errors, filled in) keeps its page's title
        kind = name.split(":")[0]
        title = page.title()
        if not title.strip():
            self.problems.append(f"{name}: no title")
        if not other_language and self.titles.setdefault(kind, title) != title:
            self.problems.append(f"{name}: title {title!r}, but {self.titles[kind]!r} before")

    def assert_clean(self) -> None:
        by_title: dict[str, list[str]] = {}
        for kind, title in self.titles.items():
            by_title.setdefault(title, []).append(kind)
        shared = {t: kinds for t, kinds in by_title.items() if len(kinds) > 1}
        assert not shared, f"pages sharing a title: {shared}"
        assert not self.problems, "\n".join(self.problems)


# --- French ------------------------------------------------------------------------------


def french() -> gettext.NullTranslations:
    """The pages' French catalog when it has been compiled; else English stays English."""
    if CATALOG.is_file():
        with CATALOG.open("rb") as catalog:
            return gettext.GNUTranslations(catalog)
    return gettext.NullTranslations()
