"""What an attacker can do to a candidate's way in, through the gateway on PostgreSQL and
RabbitMQ with a real SMTP server (DESIGN section 5): guess the emailed code with a known
password, throw a signed-in candidate out by locking their address; and what one browser
does to itself: two requests refreshing the same token at once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from harness import Running, run_platform
from journey import (
    PASSWORD,
    TERMS,
    activate,
    invitation_code,
    new_email,
    next_code,
    one_time_codes,
    sign_in,
    sign_in_on_the_pages,
    step,
)

ROUNDS = 40
WRONG_CODES_BOUND = 25
WRONG_PASSWORD = "Wrong-Horse-9-Battery"


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
        ("identity", "invitations", "notifier", "exams"),
    )


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _is_lock(answer: requests.Response) -> bool:
    return answer.status_code == 429 and answer.json().get("error") == "too_many_attempts"


def _api(running: Running, verb: str, path: str, token: str = "", **body: Any) -> Any:
    return running.platform.api(verb, path, token or None, json=body or None)


def test_right_password_and_wrong_code_meet_the_lock_at_sign_in(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    known = len(one_time_codes(running, email))
    wrong_codes = 0
    wrong = ""
    for _ in range(ROUNDS):
        started = _api(running, "POST", "/api/v1/sessions", email=email, password=PASSWORD)
        if _is_lock(started):
            break
        assert started.status_code == 200, started.text
        wrong = wrong or _other(next_code(running, email, known))
        entered = _api(
            running,
            "POST",
            "/api/v1/sessions/two-factor",
            challenge_id=started.json()["challenge_id"],
            code=wrong,
        )
        if _is_lock(entered):
            break
        assert entered.status_code == 401, entered.text
        wrong_codes += 1
    else:
        pytest.fail(f"{ROUNDS} rounds of right password and wrong code never met the lock")
    assert wrong_codes <= WRONG_CODES_BOUND


def test_right_password_and_wrong_code_meet_the_lock_at_activation(running: Running) -> None:
    email = new_email()
    running.platform.invite(running.platform.token(uuid.uuid4()), email)
    redeemed = _api(running, "POST", "/api/v1/activation", code=invitation_code(running, email))
    token = redeemed.json()["activation_token"]
    step(running, "/password", token, {"password": PASSWORD})
    step(running, "/language", token, {"language": "en"})
    step(running, "/terms", token, TERMS)
    wrong_codes = 0
    wrong = ""
    for _ in range(ROUNDS):
        resumed = _api(running, "POST", "/api/v1/sessions", email=email, password=PASSWORD)
        if _is_lock(resumed):
            break
        assert resumed.json()["error"] == "activation_incomplete", resumed.text
        token = resumed.json()["activation_token"]
        # a new code, or the one already on its way (no sooner than 30 s after the last)
        _api(running, "POST", "/api/v1/activation/two-factor", token, method="email")
        wrong = wrong or _other(next_code(running, email, 0))
        confirmed = _api(
            running, "POST", "/api/v1/activation/two-factor/confirm", token, code=wrong
        )
        if _is_lock(confirmed):
            break
        assert confirmed.json()["error"] == "invalid_code", confirmed.text
        wrong_codes += 1
    else:
        pytest.fail(f"{ROUNDS} rounds of right password and wrong code never met the lock")
    assert wrong_codes <= WRONG_CODES_BOUND


def test_locking_the_address_does_not_end_a_standing_session(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    tokens = sign_in(running, email)
    for _ in range(6):
        _api(running, "POST", "/api/v1/sessions", email=email, password=WRONG_PASSWORD)
    assert _is_lock(_api(running, "POST", "/api/v1/sessions", email=email, password=PASSWORD))
    refreshed = _api(
        running, "POST", "/api/v1/sessions/refresh", refresh_token=tokens.refresh_token
    )
    assert refreshed.status_code == 200, refreshed.text
    assert _api(running, "GET", "/api/v1/me", refreshed.json()["access_token"]).status_code == 200


def test_two_parallel_refreshes_of_one_token_both_keep_the_session(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    tokens = sign_in(running, email)

    def refresh(_: int) -> requests.Response:
        return _api(running, "POST", "/api/v1/sessions/refresh", refresh_token=tokens.refresh_token)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(refresh, range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    for answer in answers:
        body = answer.json()
        assert _api(running, "GET", "/api/v1/me", body["access_token"]).status_code == 200
        again = _api(
            running, "POST", "/api/v1/sessions/refresh", refresh_token=body["refresh_token"]
        )
        assert again.status_code == 200, again.text


def test_two_parallel_page_calls_at_refresh_time_keep_the_session(running: Running) -> None:
    """The exam page sends two events at once on a tab switch; when the access token is
    due for refresh, both relay calls refresh with the same refresh token."""
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    gateway = running.platform.gateway
    pages = sign_in_on_the_pages(running, email)
    kept = pages.kept()
    kept["auth"]["expires_at"] = int(time.time()) - 1  # the access token is due
    cookie = pages.cookie_of(kept)

    def dashboard(_: int) -> requests.Response:
        return requests.get(
            f"{gateway}/app/api/v1/dashboard", cookies={"nexam": cookie}, timeout=30
        )

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(dashboard, range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    for answer in answers:
        renewed = pages.serializer.loads(answer.cookies["nexam"])["auth"]
        assert renewed["refresh"] != kept["auth"]["refresh"]
        assert _api(running, "GET", "/api/v1/me", renewed["access"]).status_code == 200
        again = _api(running, "POST", "/api/v1/sessions/refresh", refresh_token=renewed["refresh"])
        assert again.status_code == 200, again.text
