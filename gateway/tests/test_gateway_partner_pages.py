"""Signing in and activating with Microsoft or Google through the pages: the buttons, the
start that sends the browser to the partner, and the return that identity judges, against a
fake identity that speaks the partners' contract (a small HTTP server on loopback)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from flask import Flask, Response, jsonify, request
from flask.testing import FlaskClient
from test_gateway_translations import french_catalog
from werkzeug.test import TestResponse

from contracts.events.internal import PARTNER_CALLBACK_PATH as CALLBACK_PATH
from contracts.runtime.auth import TokenVerifier
from contracts.testing.serving import closed_port_url, serving
from gateway import create_app
from gateway.config import SERVICES, GatewaySettings
from gateway.web.partner_pages import PENDING

ISSUER = "http://127.0.0.1:8000"
CSRF = "the-token"
ACTIVATION_TOKEN = "activation-token"
EXPIRED = "This sign-in attempt has expired or was already used. Start again."
UNAVAILABLE = "The platform cannot answer right now. Try again in a few moments."

# --- a fake identity, by the contract -------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    json: Any
    language: str | None


def _steps(done: set[str], names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"name": name, "done": name in done} for name in names]


@dataclass
class FakeIdentity:
    """Identity's side of the partners' contract. ``answers`` (path -> status, body) stands
    in for what identity would say to a path; every call is kept in ``calls``."""

    url: str = ""
    turned_on: list[str] = field(default_factory=lambda: ["microsoft", "google"])
    offered: list[str] = field(default_factory=lambda: ["microsoft"])
    calls: list[Call] = field(default_factory=list)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    # the activation as it stands: the password way until a partner's is taken
    activated_with: str | None = None
    done: set[str] = field(default_factory=set)
    status: str = "pending"
    attempts: int = 0

    def view(self) -> dict[str, Any]:
        names = ("partner", "language", "terms")
        if not self.activated_with:
            names = ("password", "language", "terms", "two_factor")
        return {
            "email": "ada@example.org",
            "first_name": "Ada",
            "language": None,
            "terms_version": "2026-01",
            "privacy_version": "2026-02",
            "partners": self.offered,
            "activated_with": self.activated_with,
            "status": self.status,
            "steps": _steps(self.done, names),
        }

    def app(self) -> Flask:
        app = Flask("fake-identity")

        @app.before_request
        def keep() -> Response | None:
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    request.get_json(silent=True),
                    request.headers.get("Accept-Language"),
                )
            )
            if request.path in self.answers:
                status, body = self.answers[request.path]
                response = jsonify(body) if body is not None else Response(b"oops")
                response.status_code = status
                return response
            return None

        @app.get("/internal/v1/sessions/ended")
        def ended() -> Response:
            return jsonify({"sessions": []})

        @app.get("/internal/v1/partners")
        def partners() -> Response:
            origins = {
                "microsoft": "https://login.microsoftonline.com",
                "google": "https://accounts.google.com",
                "evil": "https://evil.example",
            }
            return jsonify({"partners": self.turned_on, "origins": origins})

        @app.post("/internal/v1/partners/<provider>/authorization")
        def authorization(provider: str) -> Any:
            if provider not in self.turned_on:
                return {"error": "partner_unavailable", "message": "Not offered here."}, 404
            self.attempts += 1
            n = self.attempts
            return {
                "authorization_url": f"https://login.example.org/{provider}/authorize?n={n}",
                "state": f"state-{n}",
                "nonce": f"nonce-{n}",
                "code_verifier": f"verifier-{n}",
            }

        @app.post("/internal/v1/partners/<provider>/sign-in")
        def sign_in(provider: str) -> Any:
            return {
                "session_id": "s-1",
                "account_id": "a-1",
                "refresh_token": f"refresh-{uuid.uuid4().hex}",
                "session_expires_at": (datetime.now(UTC) + timedelta(hours=12)).isoformat(),
                "roles": ["candidate"],
                "amr": ["sso"],
                "language": "fr",
            }, 201

        @app.post("/internal/v1/partners/<provider>/activation")
        def activation(provider: str) -> Any:
            self.activated_with = provider
            self.done = {"partner"}
            return self.view()

        @app.get("/api/v1/activation")
        def activation_view() -> Any:
            if request.headers.get("Authorization") != f"Bearer {ACTIVATION_TOKEN}":
                return {"error": "invalid_token", "message": "Enter your code again."}, 401
            return self.view()

        @app.post("/api/v1/activation/language")
        def language() -> Any:
            self.done.add("language")
            return self.view()

        @app.post("/api/v1/activation/terms")
        def terms() -> Any:
            self.done.add("terms")
            if self.activated_with:
                self.status = "active"
            return self.view()

        @app.get("/api/v1/me")
        def me() -> Any:
            return {"language": "fr"}

        return app

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
def make_gateway(tmp_path: Path, identity: FakeIdentity) -> Callable[..., Flask]:
    """A gateway whose identity is the fake (or ``identity_url``), the rest closed ports,
    with the French catalog compiled from the .po now."""
    compiled = tmp_path / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"
    compiled.parent.mkdir(parents=True)
    with compiled.open("wb") as mo:
        write_mo(mo, french_catalog())
    closed = {f"{name.upper()}_URL": closed_port_url() for name in SERVICES}

    def make(identity_url: str | None = None) -> Flask:
        env = {
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "PUBLIC_URL": ISSUER,
            **closed,
            "IDENTITY_URL": identity_url or identity.url,
        }
        app = create_app(GatewaySettings.from_env(env))
        app.extensions["babel"].translation_directories = [str(tmp_path / "translations")]
        return app

    return make


@pytest.fixture
def app(make_gateway: Callable[..., Flask]) -> Flask:
    return make_gateway()


def browser(app: Flask, **session: Any) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as kept:
        kept["csrf"] = CSRF
        kept.update(session)
    return client


def kept(client: FlaskClient, key: str) -> Any:
    with client.session_transaction() as session:
        return session.get(key)


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def start(client: FlaskClient, provider: str = "microsoft", **form: str) -> TestResponse:
    return client.post(
        f"/connexion/partenaire/{provider}",
        data={"csrf_token": CSRF, "intent": "sign_in", **form},
    )


def come_back(client: FlaskClient, provider: str = "microsoft", **query: str) -> TestResponse:
    path = CALLBACK_PATH.format(provider=provider)
    return client.get(path, query_string={"code": "the-code", **query})


def attempt(provider: str = "microsoft", intent: str = "sign_in") -> dict[str, Any]:
    return {
        "provider": provider,
        "intent": intent,
        "state": "the-state",
        "nonce": "the-nonce",
        "code_verifier": "the-verifier",
    }


def partner_forms(page: str) -> dict[str, str]:
    """Each partner form's address and its fields, by the button's name."""
    forms = re.findall(
        r'<form method="post" action="(/connexion/partenaire/[^"]+)">(.*?)</form>', page, re.S
    )
    found = {}
    for action, body in forms:
        button = re.search(r"<button[^>]*>([^<]+)</button>", body)
        assert button is not None
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', body))
        found[button.group(1).strip()] = f"{action} {sorted(fields.items())}"
    return found


# --- the buttons ----------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_partners_turned_on(app: Flask, identity: FakeIdentity) -> None:
    identity.turned_on = ["google"]
    page = text(browser(app).get("/connexion"))
    forms = partner_forms(page)
    assert list(forms) == ["Sign in with Google"]
    assert forms["Sign in with Google"] == (
        f"/connexion/partenaire/google [('csrf_token', '{CSRF}'), ('intent', 'sign_in')]"
    )
    assert "Or use a sign-in partner offered by your institution:" in page


def test_the_sign_in_page_offers_them_in_french(app: Flask) -> None:
    page = text(browser(app).get("/connexion", headers={"Accept-Language": "fr"}))
    assert list(partner_forms(page)) == ["Se connecter avec Microsoft", "Se connecter avec Google"]
    assert "Sign in with" not in page


def test_the_list_of_partners_is_asked_for_once_a_minute_at_most(
    app: Flask, identity: FakeIdentity
) -> None:
    client = browser(app)
    for _ in range(3):
        client.get("/connexion")
    assert len(identity.calls_to("/internal/v1/partners")) == 1


@pytest.mark.parametrize("turned_on", [[], None], ids=["none-turned-on", "identity-down"])
def test_no_button_when_none_is_turned_on_or_identity_cannot_say(
    make_gateway: Callable[..., Flask], identity: FakeIdentity, turned_on: list[str] | None
) -> None:
    if turned_on is None:
        app = make_gateway(identity_url=closed_port_url())
    else:
        identity.turned_on = turned_on
        app = make_gateway()
    answer = browser(app).get("/connexion")
    assert answer.status_code == 200
    assert partner_forms(text(answer)) == {}
    assert "sign-in partner" not in text(answer)


def test_the_activation_s_first_step_offers_the_institution_s_partners(
    app: Flask, identity: FakeIdentity
) -> None:
    identity.offered = ["google"]
    client = browser(app, activation=ACTIVATION_TOKEN)
    page = text(client.get("/activation/mot-de-passe"))
    forms = partner_forms(page)
    assert list(forms) == ["Sign in with Google"]
    assert "('intent', 'activation')" in forms["Sign in with Google"]
    assert "Or use a sign-in partner offered by your institution:" in page
    assert (
        "The address used with Microsoft or Google must match the address associated with "
        "your Nexam account." in page
    )
    assert "Create your password (step 1 of 4)" in page

    french = text(client.get("/activation/mot-de-passe", headers={"Accept-Language": "fr"}))
    assert list(partner_forms(french)) == ["Se connecter avec Google"]
    assert "doit correspondre à l'adresse associée à votre compte Nexam" in french


def test_no_partner_on_the_activation_page_when_the_institution_offers_none(
    app: Flask, identity: FakeIdentity
) -> None:
    identity.offered = []
    page = text(browser(app, activation=ACTIVATION_TOKEN).get("/activation/mot-de-passe"))
    assert partner_forms(page) == {}
    assert "must match the address" not in page


def test_the_pages_with_buttons_keep_their_security_headers(app: Flask) -> None:
    answer = browser(app).get("/connexion")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # the turned-on partners' sign-in pages only: the redirection after a button's form
    # goes there
    assert (
        "form-action 'self' https://accounts.google.com https://login.microsoftonline.com" in policy
    )
    assert "evil" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text)
    assert " style=" not in answer.text and "<style" not in answer.text


def test_a_page_without_partner_buttons_neither_allows_nor_asks_for_the_partners(
    app: Flask, identity: FakeIdentity
) -> None:
    answer = browser(app).get("/connexion/mot-de-passe-oublie")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "form-action 'self';" in policy
    assert [c for c in identity.calls if c.path == "/internal/v1/partners"] == []


def test_the_return_address_is_the_one_identity_registers_at_the_partners() -> None:
    # the address operators register at Microsoft and Google (README): it must not move
    assert CALLBACK_PATH == "/connexion/partenaire/{provider}/retour"


# --- the start ------------------------------------------------------------------------------


def test_a_button_sends_the_browser_to_the_partner_and_keeps_the_attempt(
    app: Flask, identity: FakeIdentity
) -> None:
    client = browser(app, lang="fr")
    answer = start(client, "google")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "https://login.example.org/google/authorize?n=1"
    assert kept(client, PENDING) == {
        "provider": "google",
        "intent": "sign_in",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_verifier": "verifier-1",
    }
    [call] = identity.calls_to("/internal/v1/partners/google/authorization")
    assert call.json == {"login_hint": None}
    assert call.language == "fr"

    start(client, "microsoft")  # a second try replaces the first
    assert kept(client, PENDING)["state"] == "state-2"


def test_an_activation_start_suggests_the_registered_address(
    app: Flask, identity: FakeIdentity
) -> None:
    client = browser(app, activation=ACTIVATION_TOKEN)
    answer = start(client, intent="activation")
    assert answer.status_code == 303
    assert kept(client, PENDING)["intent"] == "activation"
    [call] = identity.calls_to("/internal/v1/partners/microsoft/authorization")
    assert call.json == {"login_hint": "ada@example.org"}


def test_an_activation_start_without_an_activation_goes_back_to_the_code(app: Flask) -> None:
    client = browser(app)
    answer = start(client, intent="activation")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/connexion/code-invitation")
    assert kept(client, PENDING) is None


def test_an_unknown_partner_is_not_found(app: Flask, identity: FakeIdentity) -> None:
    answer = start(browser(app), "myspace")
    assert answer.status_code == 404
    assert "This page does not exist." in text(answer)
    assert not identity.calls_to("/internal/v1/partners/myspace/authorization")


def test_a_partner_turned_off_since_the_page_was_shown_is_refused_on_the_page(
    app: Flask, identity: FakeIdentity
) -> None:
    identity.turned_on = ["google"]
    answer = start(browser(app), "microsoft")
    assert answer.status_code == 404
    assert "Not offered here." in text(answer)
    assert "<h1>Sign in</h1>" in answer.text


def test_a_start_without_the_form_s_token_is_refused(app: Flask, identity: FakeIdentity) -> None:
    client = browser(app)
    answer = client.post("/connexion/partenaire/microsoft", data={"intent": "sign_in"})
    assert answer.status_code == 400
    assert "This form has expired" in text(answer)
    assert not identity.calls_to("/internal/v1/partners/microsoft/authorization")
    assert kept(client, PENDING) is None


# --- the return: refused by the gateway ------------------------------------------------------


def test_a_return_without_an_attempt_is_refused(app: Flask, identity: FakeIdentity) -> None:
    answer = come_back(browser(app), state="the-state")
    assert answer.status_code == 400
    assert EXPIRED in text(answer)
    assert not identity.calls_to("/internal/v1/partners/microsoft/sign-in")


@pytest.mark.parametrize(
    ("provider", "state"),
    [("microsoft", "another-state"), ("microsoft", ""), ("google", "the-state")],
    ids=["wrong-state", "no-state", "other-partner"],
)
def test_a_return_that_does_not_match_the_attempt_is_refused_and_ends_it(
    app: Flask, identity: FakeIdentity, provider: str, state: str
) -> None:
    client = browser(app, **{PENDING: attempt("microsoft")})
    answer = come_back(client, provider, state=state)
    assert answer.status_code == 400
    assert EXPIRED in text(answer)
    assert kept(client, PENDING) is None
    assert not [c for c in identity.calls if c.path.endswith("/sign-in")]
    # the right answer now comes too late
    assert EXPIRED in text(come_back(client, "microsoft", state="the-state"))


def test_a_cancelled_sign_in_names_the_partner(app: Flask, identity: FakeIdentity) -> None:
    client = browser(app, **{PENDING: attempt("microsoft")})
    answer = client.get(
        CALLBACK_PATH.format(provider="microsoft"),
        query_string={"state": "the-state", "error": "access_denied"},
    )
    assert answer.status_code == 400
    assert (
        "Microsoft did not sign you in: the sign-in was cancelled or refused. Try again, or "
        "use your password." in text(answer)
    )
    assert not [c for c in identity.calls if c.path.endswith("/sign-in")]


# --- the return: signing in -----------------------------------------------------------------


def test_a_partner_s_sign_in_opens_a_session_minted_by_the_gateway(
    app: Flask, identity: FakeIdentity
) -> None:
    client = browser(app)
    start(client, "google")
    answer = come_back(client, "google", state="state-1")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/tableau-de-bord")

    [call] = identity.calls_to("/internal/v1/partners/google/sign-in")
    assert call.json == {"code": "the-code", "code_verifier": "verifier-1", "nonce": "nonce-1"}
    auth = kept(client, "auth")
    jwks = app.test_client().get("/.well-known/jwks.json").json
    claims = TokenVerifier(ISSUER, "nexam", jwks=jwks).verify(auth["access"])
    assert (claims.subject, claims.raw["sid"], claims.raw["amr"]) == ("a-1", "s-1", ["sso"])
    assert auth["refresh"].startswith("refresh-")
    assert kept(client, "lang") == "fr"  # the language of the account, from /api/v1/me

    # the same return again: the attempt was used (said in the account's language now)
    replayed = come_back(client, "google", state="state-1")
    assert replayed.status_code == 400
    assert "Cette tentative de connexion a expiré ou a déjà servi." in text(replayed)
    assert len(identity.calls_to("/internal/v1/partners/google/sign-in")) == 1


def test_an_unfinished_activation_is_resumed(app: Flask, identity: FakeIdentity) -> None:
    identity.answers["/internal/v1/partners/microsoft/sign-in"] = (
        409,
        {
            "error": "activation_incomplete",
            "message": "Finish your activation.",
            "steps": [],
            "activation_token": "resume-token",
        },
    )
    client = browser(app, **{PENDING: attempt()})
    answer = come_back(client, state="the-state")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/activation")
    assert kept(client, "activation") == "resume-token"


def test_changed_terms_are_accepted_with_the_partner(app: Flask, identity: FakeIdentity) -> None:
    path = "/internal/v1/partners/microsoft/sign-in"
    identity.answers[path] = (
        409,
        {
            "error": "terms_outdated",
            "message": "Accept the terms.",
            "terms_version": "2027-01",
            "privacy_version": "2027-02",
        },
    )
    client = browser(app, **{PENDING: attempt()})
    page = come_back(client, state="the-state")
    assert page.status_code == 409
    assert "The Terms of Use or the Privacy Policy have changed." in text(page)
    assert "('terms_version', '2027-01')" in partner_forms(text(page))["Sign in with Microsoft"]

    del identity.answers[path]
    start(client, terms_version="2027-01", privacy_version="2027-02")
    come_back(client, state="state-1")
    assert identity.calls_to(path)[-1].json == {
        "code": "the-code",
        "code_verifier": "verifier-1",
        "nonce": "nonce-1",
        "terms_version": "2027-01",
        "privacy_version": "2027-02",
    }
    assert kept(client, "auth") is not None


SIGN_IN_REFUSALS = [
    (401, "partner_refused"),
    (403, "partner_not_offered"),
    (403, "partner_wrong_tenant"),
    (403, "partner_address_unverified"),
    (404, "partner_no_account"),
    (409, "partner_link_taken"),
    (409, "partner_other_link"),
    (404, "partner_unavailable"),
]


@pytest.mark.parametrize(("status", "error"), SIGN_IN_REFUSALS)
def test_identity_s_refusals_of_a_sign_in_show_on_the_sign_in_page(
    app: Flask, identity: FakeIdentity, status: int, error: str
) -> None:
    message = f"Refused by identity: {error}."
    identity.answers["/internal/v1/partners/microsoft/sign-in"] = (
        status,
        {"error": error, "message": message},
    )
    client = browser(app, **{PENDING: attempt()})
    answer = come_back(client, state="the-state")
    assert answer.status_code == status
    page = text(answer)
    assert "There is a problem" in page and message in page
    assert "<h1>Sign in</h1>" in page
    assert kept(client, "auth") is None


def test_a_locked_account_says_when_to_try_again(app: Flask, identity: FakeIdentity) -> None:
    identity.answers["/internal/v1/partners/microsoft/sign-in"] = (
        429,
        {"error": "too_many_attempts", "message": "Locked.", "retry_after": 120},
    )
    answer = come_back(browser(app, **{PENDING: attempt()}), state="the-state")
    assert answer.status_code == 429
    assert "Too many attempts." in text(answer)


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"error": "partner_unreachable", "message": "Microsoft cannot be reached."}),
        (500, None),
    ],
    ids=["partner-unreachable", "identity-broken"],
)
def test_a_partner_or_identity_out_of_order_says_so_without_failing(
    app: Flask, identity: FakeIdentity, answer: tuple[int, Any]
) -> None:
    identity.answers["/internal/v1/partners/microsoft/sign-in"] = answer
    page = come_back(browser(app, **{PENDING: attempt()}), state="the-state")
    assert page.status_code == 503
    expected = answer[1]["message"] if answer[1] else UNAVAILABLE
    assert expected in text(page)


def test_an_unreachable_identity_is_a_page_not_an_error(
    make_gateway: Callable[..., Flask],
) -> None:
    app = make_gateway(identity_url=closed_port_url())
    client = browser(app, **{PENDING: attempt()})
    page = come_back(client, state="the-state")
    assert page.status_code == 503
    assert UNAVAILABLE in text(page)
    refused_start = start(client)
    assert refused_start.status_code == 503
    assert UNAVAILABLE in text(refused_start)


# --- the return: activating ----------------------------------------------------------------


def test_a_partner_activation_goes_on_to_the_language_then_the_account_is_active(
    app: Flask, identity: FakeIdentity
) -> None:
    client = browser(app, activation=ACTIVATION_TOKEN)
    start(client, intent="activation")
    answer = come_back(client, state="state-1")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/activation/langue")
    [call] = identity.calls_to("/internal/v1/partners/microsoft/activation")
    assert call.json == {
        "code": "the-code",
        "code_verifier": "verifier-1",
        "nonce": "nonce-1",
        "activation_token": ACTIVATION_TOKEN,
    }

    language = text(client.get("/activation/langue"))
    assert "Choose your language (step 2 of 3)" in language
    assert "Sign in with Microsoft" in language  # the first step, done
    # no password to create on this way
    assert client.get("/activation/mot-de-passe").headers["Location"].endswith("/activation")

    client.post("/activation/langue", data={"csrf_token": CSRF, "language": "en"})
    assert "Accept the terms (step 3 of 3)" in text(client.get("/activation/conditions"))
    done = client.post("/activation/conditions", data={"csrf_token": CSRF, "accept": "1"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/connexion?activated=1")
    assert kept(client, "activation") is None
    page = text(client.get("/connexion?activated=1"))
    assert "Your account is activated. Sign in with Microsoft." in page


ACTIVATION_REFUSALS = [
    (401, "partner_refused"),
    (403, "partner_not_offered"),
    (403, "partner_address_mismatch"),
    (409, "partner_link_taken"),
    (404, "partner_unavailable"),
]


@pytest.mark.parametrize(("status", "error"), ACTIVATION_REFUSALS)
def test_identity_s_refusals_of_an_activation_show_on_its_first_step(
    app: Flask, identity: FakeIdentity, status: int, error: str
) -> None:
    message = f"Refused by identity: {error}."
    identity.answers["/internal/v1/partners/microsoft/activation"] = (
        status,
        {"error": error, "message": message},
    )
    client = browser(app, activation=ACTIVATION_TOKEN, **{PENDING: attempt(intent="activation")})
    answer = come_back(client, state="the-state")
    assert answer.status_code == status
    page = text(answer)
    assert message in page
    assert "Create your password (step 1 of 4)" in page
    assert kept(client, "activation") == ACTIVATION_TOKEN


def test_an_ended_activation_asks_for_the_code_again(app: Flask, identity: FakeIdentity) -> None:
    identity.answers["/internal/v1/partners/microsoft/activation"] = (
        401,
        {"error": "invalid_token", "message": "Enter your invitation code again."},
    )
    client = browser(app, activation=ACTIVATION_TOKEN, **{PENDING: attempt(intent="activation")})
    identity.answers["/api/v1/activation"] = (401, {"error": "invalid_token", "message": "x"})
    answer = come_back(client, state="the-state")
    assert answer.status_code == 401
    page = text(answer)
    assert "Enter your invitation code again." in page
    assert "Invitation code" in page
    assert kept(client, "activation") is None


def test_a_cancelled_activation_stays_on_its_first_step(app: Flask, identity: FakeIdentity) -> None:
    client = browser(app, activation=ACTIVATION_TOKEN, **{PENDING: attempt(intent="activation")})
    answer = client.get(
        CALLBACK_PATH.format(provider="microsoft"),
        query_string={"state": "the-state", "error": "access_denied"},
    )
    assert answer.status_code == 400
    page = text(answer)
    assert "Microsoft did not sign you in: the sign-in was cancelled or refused." in page
    assert "Create your password (step 1 of 4)" in page
