"""Activation and sign-in with Microsoft and Google in Chromium, against a real OpenID
Connect provider standing in for both (DESIGN section 9): the whole way with each partner,
in English and French; every refusal explained on the page; a replayed callback refused;
axe-core on every new page state, at 360 px and at desktop size."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser_kit import (
    Audit,
    Running,
    Visit,
    chromium,
    error_summary,
    new_email,
    next_link,
    platform,
    visiting,
)
from journey import activate as activate_by_api
from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine, insert

from contracts.testing.bus import wait_until
from contracts.testing.oidc import TENANT_A, TENANT_B, OidcProvider, OidcUser
from identity.store import institutions


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
    amqp_url: str,
    postgres_server_url: str,
    oidc_provider: OidcProvider,
) -> Iterator[Running]:
    path: Path = tmp_path_factory.mktemp("platform")
    # the partner sends the browser back to PUBLIC_URL: here, the test's gateway
    env = {**oidc_provider.env(), "PUBLIC_URL": "{gateway}"}
    yield from platform(path, amqp_url, postgres_server_url, env=env)


@pytest.fixture
def visit(browser: Browser, running: Running) -> Iterator[Visit]:
    yield from visiting(browser, running)


def institution(running: Running, *partners: str, tenant: str | None = None) -> uuid.UUID:
    """An institution offering ``partners``, as ``nexam-admin institution sso`` leaves it."""
    institution_id = uuid.uuid4()
    engine = create_engine(running.platform.env["IDENTITY_DATABASE_URL"])
    try:
        with engine.begin() as db:
            db.execute(
                insert(institutions).values(
                    id=institution_id,
                    name=f"Institution {institution_id}",
                    created_at=datetime.now(UTC),
                    partners=" ".join(sorted(partners)),
                    microsoft_tenant=tenant,
                )
            )
    finally:
        engine.dispose()
    return institution_id


def invitation_link(running: Running, email: str, offered_by: uuid.UUID, language: str) -> str:
    running.platform.invite(running.platform.token(offered_by), email, language)
    return next_link(running, email, "/connexion/code-invitation")


def use_partner(page: Page, name: str, user: OidcUser | None, *, cancel: bool = False) -> None:
    """The partner's button, then the partner's own sign-in page: who signs in, or cancel.
    At activation the gateway names the invited address (``login_hint``): a partner account
    with that address is signed in at once, as when someone is signed in there already."""
    start = page.url
    gateway = start.split("/connexion")[0].split("/activation")[0]
    page.locator(f"form[action$='/connexion/partenaire/{name}'] button[type=submit]").click()

    def where() -> str | None:
        url = page.url
        # a refusal is shown at the address the partner sent the browser back to
        back = "/partenaire/" not in url or "/retour" in url
        if url.startswith(gateway) and url != start and back:
            return "back"
        return "form" if page.locator("#account").count() else None

    wait_until(where, 15, f"the partner's page, or the way back from it (at {page.url})")
    if where() == "back":
        page.wait_for_load_state()
        return
    if user is not None:
        page.locator("#account").fill(user.sub)
    page.get_by_role("button", name="Cancel" if cancel else "Sign in", exact=True).click()
    page.wait_for_url(lambda url: url.startswith(gateway))
    page.wait_for_load_state()


def activate_with(
    visit: Visit,
    running: Running,
    name: str,
    user: OidcUser,
    link: str,
    language: str,
    audit: Audit,
) -> None:
    page = visit.page
    page.goto(link)
    page.locator("form:has(#code) button[type=submit]").click()
    page.wait_for_url("**/activation/mot-de-passe")
    audit("activation-password:partners")
    use_partner(page, name, user)
    page.wait_for_url("**/activation/langue")
    # the partner's step done, two left: no password, no emailed code
    assert "2" in page.title() and "3" in page.title()
    audit("activation-language:partner")
    page.locator("#language-" + language).check()
    page.locator("form:has(#language-en) button[type=submit]").click()
    page.wait_for_url("**/activation/conditions")
    page.locator("#accept").check()
    page.locator("form:has(#accept) button[type=submit]").click()
    page.wait_for_url("**/connexion?activated=1")
    audit("sign-in:activated-with-partner", other_language=language == "fr")


def sign_in_with(page: Page, name: str, user: OidcUser) -> None:
    if not page.url.split("?")[0].endswith("/connexion"):
        page.goto(page.url.split("/connexion")[0].split("/tableau")[0] + "/connexion")
    use_partner(page, name, user)
    page.wait_for_url("**/tableau-de-bord")


@pytest.mark.parametrize(("name", "language"), [("google", "en"), ("microsoft", "fr")])
def test_activation_then_sign_out_and_sign_in_with_a_partner(
    visit: Visit, running: Running, oidc_provider: OidcProvider, name: str, language: str
) -> None:
    email = new_email()
    offered_by = institution(running, "microsoft", "google")
    user = oidc_provider.add_user(name, email=email, xms_edov=True)
    audit = Audit(visit.page)
    link = invitation_link(running, email, offered_by, language)
    activate_with(visit, running, name, user, link, language, audit)
    page = visit.page
    assert page.locator("html").get_attribute("lang") == language

    sign_in_with(page, name, user)
    audit("dashboard:partner", other_language=language == "fr")
    page.locator("form[action$='/deconnexion'] button[type=submit]").click()
    page.wait_for_url("**/connexion")
    audit("sign-in:partners", other_language=language == "fr")
    sign_in_with(page, name, user)
    audit.assert_clean()


@pytest.mark.parametrize(("name", "language"), [("microsoft", "en"), ("google", "fr")])
def test_the_other_partner_and_language(
    visit: Visit, running: Running, oidc_provider: OidcProvider, name: str, language: str
) -> None:
    email = new_email()
    offered_by = institution(running, "microsoft", "google")
    user = oidc_provider.add_user(name, email=email.upper(), xms_edov=True)
    audit = Audit(visit.page)
    activate_with(
        visit,
        running,
        name,
        user,
        invitation_link(running, email, offered_by, language),
        language,
        audit,
    )
    sign_in_with(visit.page, name, user)
    audit.assert_clean()


def refused_at_activation(
    visit: Visit,
    running: Running,
    name: str,
    user: OidcUser | None,
    offered_by: uuid.UUID,
    email: str,
    **kwargs: bool,
) -> list[str]:
    page = visit.page
    page.goto(invitation_link(running, email, offered_by, "en"))
    page.locator("form:has(#code) button[type=submit]").click()
    page.wait_for_url("**/activation/mot-de-passe")
    use_partner(page, name, user, **kwargs)
    page.wait_for_load_state()
    return error_summary(page)


def test_each_refusal_at_activation_is_explained(
    visit: Visit, running: Running, oidc_provider: OidcProvider
) -> None:
    audit = Audit(visit.page)
    offered_by = institution(running, "google", "microsoft", tenant=TENANT_A)

    email = new_email()
    other = oidc_provider.add_user("google", email=new_email())
    words = refused_at_activation(visit, running, "google", other, offered_by, email)
    assert any("use the address your institution registered" in w.lower() for w in words), words
    audit("activation-password:partner-mismatch")

    email = new_email()
    unverified = oidc_provider.add_user("google", email=email, email_verified=False)
    words = refused_at_activation(visit, running, "google", unverified, offered_by, email)
    assert any("does not confirm" in w for w in words), words

    email = new_email()
    stranger = oidc_provider.add_user("microsoft", email=email, tenant=TENANT_B, xms_edov=True)
    words = refused_at_activation(visit, running, "microsoft", stranger, offered_by, email)
    assert any("its own Microsoft accounts" in w for w in words), words

    email = new_email()
    words = refused_at_activation(visit, running, "google", None, offered_by, email, cancel=True)
    assert any("cancelled" in w for w in words), words
    audit("activation-password:partner-cancelled")
    # the activation goes on: the password is still there to choose
    assert visit.page.locator("#password").count() == 1
    audit.assert_clean()


def test_each_refusal_at_sign_in_is_explained_and_a_replayed_callback_is_refused(
    visit: Visit, running: Running, oidc_provider: OidcProvider
) -> None:
    page = visit.page
    audit = Audit(page)
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/retour?" in r.url else None)

    def attempt(name: str, user: OidcUser) -> list[str]:
        visit.goto("/connexion")
        use_partner(page, name, user)
        page.wait_for_load_state()
        return error_summary(page)

    nobody = oidc_provider.add_user("google", email=new_email())
    assert any("Activate your account first" in w for w in attempt("google", nobody))
    audit("sign-in:partner-no-account")

    microsoft_only = institution(running, "microsoft")
    email = new_email()
    activate_by_api(running, running.platform.token(microsoft_only), email)
    user = oidc_provider.add_user("google", email=email)
    assert any("does not offer sign-in with Google" in w for w in attempt("google", user))

    claimant = oidc_provider.add_user("microsoft", email=email, xms_edov=False, tenant=TENANT_B)
    assert any("does not confirm" in w for w in attempt("microsoft", claimant))

    owner = oidc_provider.add_user("microsoft", email=email, xms_edov=True)
    visit.goto("/connexion")
    use_partner(page, "microsoft", owner)
    page.wait_for_url("**/tableau-de-bord")
    page.locator("form[action$='/deconnexion'] button[type=submit]").click()
    page.wait_for_url("**/connexion")
    # the same callback again, from the browser's history or an eavesdropper: refused
    page.goto(callbacks[-1])
    words = error_summary(page)
    assert any("expired or was already used" in w for w in words), words
    assert "/tableau-de-bord" not in page.url
    audit("sign-in:partner-replayed")

    visit.goto("/connexion")
    page.locator(".language-switcher button[value=fr]").click()
    page.wait_for_load_state()
    use_partner(page, "google", nobody)
    page.wait_for_load_state()
    assert any("Activez d'abord votre compte" in w for w in error_summary(page))
    audit("sign-in:partner-no-account", other_language=True)
    audit.assert_clean()
