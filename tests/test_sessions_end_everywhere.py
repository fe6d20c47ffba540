"""Signing out, a password change, a reset and a replayed refresh token end access everywhere
within seconds (DESIGN section 5), not when the access token expires 15 minutes later: the
exams and device-check services trust the token's signature alone, so the gateway, the one
public door, refuses the tokens of ended sessions. End to end on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from harness import Running, run_platform, text_of
from journey import PASSWORD, Tokens, activate, new_email, sign_in, sign_in_on_the_pages

from contracts.testing.bus import wait_until

#: what "within seconds" means here
WITHIN = 5.0
#: what identity answers to the token of an ended session
SESSION_ENDED = {
    "en": "Your session has ended. Sign in again.",
    "fr": "Votre session a pris fin. Connectez-vous à nouveau.",
}
#: what a device reports when everything works (the device check's own tests use the same)
PASSING_DEVICE = {
    "screen_share": {"display_surface": "monitor"},
    "webcam": {"live": True, "width": 1280, "height": 720},
    "download_mbps": 48.5,
    "upload_mbps": 12.25,
    "latency_ms": 38.0,
    "document_displayed": True,
    "writing": {"typed": True, "autosave_ok": True},
    "browser": {"name": "Chrome", "version": "131.0.6778.85"},
}


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
    amqp_url: str,
    module_postgres_database: Callable[[], str],
) -> Iterator[Running]:
    """One platform for the module: each test uses addresses of its own."""
    yield from run_platform(
        tmp_path_factory.mktemp("platform"),
        amqp_url,
        lambda _s: module_postgres_database(),
        ("identity", "invitations", "notifier", "exams", "devicecheck"),
        # no leeway for a replayed refresh token: the replay below is a thief's at once
        env={"REFRESH_REUSE_LEEWAY_S": "0"},
    )


def candidate(running: Running) -> str:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    return email


def exams_and_device_check(running: Running, access_token: str) -> dict[str, int]:
    """What the exams and device-check APIs answer to ``access_token``."""
    return {
        path: running.platform.api("GET", path, access_token).status_code
        for path in ("/api/v1/dashboard", "/api/v1/device-checks/latest")
    }


def check_the_device(running: Running, access_token: str) -> None:
    """One judged device check, so that the latest result exists (200, not 404)."""
    run = running.platform.api("POST", "/api/v1/device-checks", access_token, json={})
    assert run.status_code == 201, run.text
    judged = running.platform.api(
        "PUT", f"/api/v1/device-checks/{run.json()['id']}", access_token, json=PASSING_DEVICE
    )
    assert judged.status_code == 200, judged.text


def assert_served(running: Running, tokens: Tokens) -> None:
    answers = exams_and_device_check(running, tokens.access_token)
    assert answers == {"/api/v1/dashboard": 200, "/api/v1/device-checks/latest": 200}


def assert_refused_within_seconds(running: Running, access_token: str) -> None:
    """Both APIs answer 401 to the old token within ``WITHIN`` seconds, with the error that
    identity gives for an ended session."""
    started = time.monotonic()
    wait_until(
        lambda: set(exams_and_device_check(running, access_token).values()) == {401},
        WITHIN,
        "the exams and device-check APIs to refuse the token of the ended session",
    )
    assert time.monotonic() - started < WITHIN
    for path in ("/api/v1/dashboard", "/api/v1/device-checks/latest"):
        for language in ("en", "fr"):
            answer = running.platform.api(
                "GET", path, access_token, headers={"Accept-Language": language}
            )
            assert answer.status_code == 401
            assert answer.json() == {
                "error": "invalid_token",
                "message": SESSION_ENDED[language],
            }
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="nexam"'


def test_signing_out_ends_access_to_exams_and_device_check_within_seconds(
    running: Running,
) -> None:
    email = candidate(running)
    tokens = sign_in(running, email)
    check_the_device(running, tokens.access_token)
    staying = sign_in(running, email)
    assert_served(running, tokens)

    out = running.platform.api("DELETE", "/api/v1/sessions", tokens.access_token)
    assert out.status_code == 204, out.text
    assert_refused_within_seconds(running, tokens.access_token)
    # the candidate's other session goes on
    assert_served(running, staying)


def test_a_password_change_ends_the_other_sessions_access_within_seconds(
    running: Running,
) -> None:
    email = candidate(running)
    other = sign_in(running, email)
    check_the_device(running, other.access_token)
    current = sign_in(running, email)
    assert_served(running, other)

    changed = running.platform.api(
        "POST",
        "/api/v1/me/password",
        current.access_token,
        json={"current_password": PASSWORD, "new_password": "Fresh-Meadow-42-Lark"},
    )
    assert changed.status_code == 200, changed.text
    assert_refused_within_seconds(running, other.access_token)
    assert_served(running, current)


def reset_token(running: Running, email: str) -> str:
    def link() -> str | None:
        for message in running.mail.messages(email):
            for word in text_of(message).split():
                if "/connexion/reset-password?token=" in word:
                    return word
        return None

    wait_until(lambda: link() is not None, 30, "the reset email")
    found = link()
    assert found is not None
    return parse_qs(urlparse(found).query)["token"][0]


def test_a_password_reset_ends_access_within_seconds(running: Running) -> None:
    email = candidate(running)
    tokens = sign_in(running, email)
    check_the_device(running, tokens.access_token)
    assert_served(running, tokens)

    forgot = running.platform.api("POST", "/api/v1/password/forgot", json={"email": email})
    assert forgot.status_code == 202
    reset = running.platform.api(
        "POST",
        "/api/v1/password/reset",
        json={"token": reset_token(running, email), "password": "Quiet-Harbour-77"},
    )
    assert reset.status_code == 200, reset.text
    assert_refused_within_seconds(running, tokens.access_token)


def test_a_replayed_refresh_token_ends_access_within_seconds(running: Running) -> None:
    email = candidate(running)
    first = sign_in(running, email)
    check_the_device(running, first.access_token)
    rotated = running.platform.api(
        "POST", "/api/v1/sessions/refresh", json={"refresh_token": first.refresh_token}
    )
    assert rotated.status_code == 200, rotated.text
    second = Tokens(rotated.json()["access_token"], rotated.json()["refresh_token"], 0)
    assert_served(running, second)

    stolen = running.platform.api(
        "POST", "/api/v1/sessions/refresh", json={"refresh_token": first.refresh_token}
    )
    assert stolen.status_code == 401
    assert_refused_within_seconds(running, second.access_token)
    assert_refused_within_seconds(running, first.access_token)


def test_the_pages_relay_refuses_an_ended_session_within_seconds(running: Running) -> None:
    email = candidate(running)
    pages = sign_in_on_the_pages(running, email)
    browser, gateway = pages.browser, running.platform.gateway
    relayed = browser.get(f"{gateway}/app/api/v1/dashboard", timeout=10)
    assert relayed.status_code == 200, relayed.text

    # the same session ended from elsewhere: its access token, read from the cookie, signs out
    kept = pages.kept()
    out = running.platform.api("DELETE", "/api/v1/sessions", kept["auth"]["access"])
    assert out.status_code == 204, out.text
    wait_until(
        lambda: browser.get(f"{gateway}/app/api/v1/dashboard", timeout=10).status_code == 401,
        WITHIN,
        "the pages' relay to refuse the ended session",
    )
    assert browser.get(f"{gateway}/tableau-de-bord", timeout=10).url.endswith("/connexion")
