"""A candidate's way in, by API through the gateway, reading each code from the email it
arrived in: shared by the end-to-end tests and the sign-in benchmark."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from flask.sessions import SecureCookieSessionInterface
from harness import CODE, Running, text_of

from contracts.testing.bus import wait_until

#: the six digits of a one-time code, alone on their line in the email
ONE_TIME_CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)
PASSWORD = "Correct-Horse-9-Battery"
TERMS = {"terms_version": "2026-09-01", "privacy_version": "2026-09-01", "accepted": True}


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def one_time_codes(running: Running, email: str) -> list[str]:
    """Every one-time code emailed to ``email``, in the order they arrived (other emails,
    such as the activation notice, arrive in between at their own pace)."""
    found = (ONE_TIME_CODE.search(text_of(m)) for m in running.mail.messages(email))
    return [match.group(1) for match in found if match is not None]


def next_code(running: Running, email: str, known: int, timeout: float = 30) -> str:
    """The one-time code after the ``known`` ones already read."""
    wait_until(lambda: len(one_time_codes(running, email)) > known, timeout, f"code {known + 1}")
    return one_time_codes(running, email)[known]


def invitation_code(running: Running, email: str, count: int = 1) -> str:
    found = CODE.search(text_of(running.mail.wait_for(count, to=email)[count - 1]))
    assert found is not None, "no invitation code in the email"
    return found.group(0)


def step(
    running: Running, path: str, token: str, body: dict[str, Any], expect: int = 200
) -> dict[str, Any]:
    answer = running.platform.api("POST", f"/api/v1/activation{path}", token, json=body)
    assert answer.status_code == expect, (path, answer.status_code, answer.text)
    return dict(answer.json())


def activate(
    running: Running,
    coordinator: str,
    email: str,
    *,
    password: str = PASSWORD,
    language: str = "en",
) -> None:
    """Invitation, email, code, every step, the code of the second email: active."""
    running.platform.invite(coordinator, email, language)
    answer = running.platform.api(
        "POST", "/api/v1/activation", json={"code": invitation_code(running, email)}
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["activation_token"]
    step(running, "/password", token, {"password": password})
    step(running, "/language", token, {"language": language})
    step(running, "/terms", token, TERMS)
    known = len(one_time_codes(running, email))
    step(running, "/two-factor", token, {"method": "email"}, expect=202)
    code = next_code(running, email, known)
    assert step(running, "/two-factor/confirm", token, {"code": code}) == {"status": "active"}


def start_sign_in(running: Running, email: str, password: str = PASSWORD) -> str:
    answer = running.platform.api(
        "POST", "/api/v1/sessions", json={"email": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["challenge_id"])


def finish_sign_in(running: Running, challenge_id: str, code: str) -> Tokens:
    answer = running.platform.api(
        "POST", "/api/v1/sessions/two-factor", json={"challenge_id": challenge_id, "code": code}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Tokens(body["access_token"], body["refresh_token"], body["expires_in"])


def sign_in(running: Running, email: str, password: str = PASSWORD) -> Tokens:
    """Password, then the code from the next email."""
    known = len(one_time_codes(running, email))
    challenge = start_sign_in(running, email, password)
    return finish_sign_in(running, challenge, next_code(running, email, known))


def new_email() -> str:
    return f"candidate-{uuid.uuid4().hex[:10]}@example.org"


@dataclass
class PagesSession:
    """A browser signed in on the pages (a requests session with the gateway's cookie), and
    what the gateway keeps in that cookie, read and written with the gateway's own key."""

    browser: requests.Session
    csrf_token: str
    serializer: Any

    def kept(self) -> dict[str, Any]:
        return dict(self.serializer.loads(self.browser.cookies["nexam"]))

    def cookie_of(self, kept: dict[str, Any]) -> str:
        return str(self.serializer.dumps(kept))


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def sign_in_on_the_pages(running: Running, email: str, password: str = PASSWORD) -> PagesSession:
    """The sign-in form, then the code from the next email: on the dashboard."""
    gateway = running.platform.gateway
    browser = requests.Session()
    token = form_token(browser.get(f"{gateway}/connexion", timeout=10).text)
    known = len(one_time_codes(running, email))
    signed = browser.post(
        f"{gateway}/connexion",
        data={"email": email, "password": password, "csrf_token": token},
        timeout=30,
    )
    assert signed.url.endswith("/connexion/code"), signed.url
    code = next_code(running, email, known)
    board = browser.post(
        f"{gateway}/connexion/code", data={"code": code, "csrf_token": token}, timeout=30
    )
    assert board.url.endswith("/tableau-de-bord"), board.url
    serializer = SecureCookieSessionInterface().get_signing_serializer(
        running.platform.apps["gateway"]
    )
    assert serializer is not None
    return PagesSession(browser, token, serializer)
