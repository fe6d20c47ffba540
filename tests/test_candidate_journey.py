"""A candidate's way in, end to end through the gateway, on PostgreSQL and RabbitMQ with a
real SMTP server: every code is read from the email it arrived in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from harness import Running, run_platform, text_of
from journey import (
    PASSWORD,
    activate,
    finish_sign_in,
    new_email,
    next_code,
    one_time_codes,
    sign_in,
    sign_in_on_the_pages,
    start_sign_in,
)

from contracts.testing.bus import wait_until


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
        ("identity", "invitations", "notifier"),
        # a short reuse leeway, so that a replay after it is quick to reach
        env={"REFRESH_REUSE_LEEWAY_S": "1"},
    )


def me(running: Running, access_token: str) -> requests.Response:
    return running.platform.api("GET", "/api/v1/me", access_token)


def refresh(running: Running, refresh_token: str) -> requests.Response:
    return running.platform.api(
        "POST", "/api/v1/sessions/refresh", json={"refresh_token": refresh_token}
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_invitation_to_signed_in_candidate(running: Running, language: str) -> None:
    coordinator = running.platform.token(uuid.uuid4())
    email = new_email()
    activate(running, coordinator, email, language=language)
    tokens = sign_in(running, email)
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert claims["roles"] == ["candidate"] and claims["amr"] == ["pwd", "otp"]
    assert tokens.expires_in == 15 * 60
    answer = me(running, tokens.access_token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == claims["sub"]
    assert (answer.json()["email"], answer.json()["language"]) == (email, language)
    assert answer.json()["status"] == "active"
    listed = running.platform.api(
        "GET", "/api/v1/invitations", coordinator, params={"email": email}
    ).json()["items"]

    def shown() -> tuple[str, list[str]]:
        path = f"/api/v1/invitations/{listed[0]['id']}"
        body = running.platform.api("GET", path, coordinator).json()
        return body["status"], body["sign_in_methods"]

    wait_until(
        lambda: shown() == ("activated", ["password"]),
        30,
        "the invitation to show the activation and how the candidate signs in",
    )
    codes = one_time_codes(running, email)
    assert len(codes) == 2 and codes[0] != codes[1]
    subjects = [str(m["Subject"]) for m in running.mail.messages(email)]
    expected = "Invitation à Nexam" if language == "fr" else "Invitation to Nexam"
    assert subjects[0] == expected


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def test_forged_and_stale_access_tokens_are_refused(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    genuine = sign_in(running, email).access_token
    assert me(running, genuine).status_code == 200
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    jwks = requests.get(f"{running.platform.gateway}/.well-known/jwks.json", timeout=10).json()
    public_x = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
    minter = running.platform.apps["gateway"].extensions["nexam.gateway"]["minter"]
    key = minter.key.private_key

    def signed(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, key, algorithm="EdDSA", headers=header)

    body, _dot, signature = genuine.rpartition(".")
    head, _dot, payload = body.partition(".")
    tampered_payload = _b64(json.dumps({**claims, "sub": str(uuid.uuid4())}).encode())
    forged = {
        "alg none": _forge(
            {"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims, lambda _m: b""
        ),
        "HS256 with the public key": _forge(
            {"alg": "HS256", "typ": "JWT", "kid": header["kid"]},
            claims,
            lambda m: hmac.new(public_x, m, hashlib.sha256).digest(),
        ),
        "expired": signed(exp=claims["iat"] - 60, iat=claims["iat"] - 960),
        "wrong audience": signed(aud="someone-else"),
        "wrong issuer": signed(iss="https://evil.example"),
        "unknown kid": jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "not-ours"}),
        "tampered payload": f"{head}.{tampered_payload}.{signature}",
        "another candidate's session": signed(sid=str(uuid.uuid4())),
    }
    for name, token in forged.items():
        answer = me(running, token)
        assert answer.status_code == 401, name
        assert answer.json()["error"] == "invalid_token", name
    assert me(running, genuine).status_code == 200


def test_a_reused_refresh_token_ends_the_whole_session(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    first = sign_in(running, email)
    answer = refresh(running, first.refresh_token)
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert second["refresh_token"] != first.refresh_token
    assert me(running, second["access_token"]).status_code == 200
    # replayed once the leeway of one browser racing itself is over
    rotated_at = time.monotonic()
    wait_until(lambda: time.monotonic() - rotated_at > 1.5, 5, "the reuse leeway to pass")
    stolen = refresh(running, first.refresh_token)
    assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_grant"
    assert refresh(running, second["refresh_token"]).status_code == 401
    assert me(running, second["access_token"]).status_code == 401


def test_changing_the_password_ends_the_other_sessions(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    other = sign_in(running, email)
    current = sign_in(running, email)
    changed = running.platform.api(
        "POST",
        "/api/v1/me/password",
        current.access_token,
        json={"current_password": PASSWORD, "new_password": "Fresh-Meadow-42-Lark"},
    )
    assert changed.status_code == 200, changed.text
    assert refresh(running, other.refresh_token).status_code == 401
    assert me(running, other.access_token).status_code == 401
    assert me(running, current.access_token).status_code == 200
    notice = running.mail.wait_for(1, to=email)
    wait_until(
        lambda: any("password" in str(m["Subject"]).lower() for m in running.mail.messages(email)),
        30,
        "the password-changed notice",
    )
    assert notice
    assert start_sign_in(running, email, "Fresh-Meadow-42-Lark")


def test_forgotten_password_reset_by_the_emailed_link(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    before = sign_in(running, email)
    known = running.platform.api("POST", "/api/v1/password/forgot", json={"email": email})
    unknown = running.platform.api("POST", "/api/v1/password/forgot", json={"email": new_email()})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()

    def reset_link() -> str | None:
        for message in running.mail.messages(email):
            for word in text_of(message).split():
                if "/connexion/reset-password?token=" in word:
                    return word
        return None

    wait_until(lambda: reset_link() is not None, 30, "the reset email")
    link = reset_link()
    assert link is not None and link.startswith("http://nexam.test/connexion/reset-password?")
    token = parse_qs(urlparse(link).query)["token"][0]
    weak = running.platform.api(
        "POST", "/api/v1/password/reset", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422 and weak.json()["error"] == "password_policy"
    reset = running.platform.api(
        "POST", "/api/v1/password/reset", json={"token": token, "password": "Quiet-Harbour-77"}
    )
    assert reset.status_code == 200, reset.text
    again = running.platform.api(
        "POST", "/api/v1/password/reset", json={"token": token, "password": "Other-Harbour-78"}
    )
    assert again.status_code == 400 and again.json()["error"] == "reset_token_invalid"
    assert refresh(running, before.refresh_token).status_code == 401
    assert me(running, before.access_token).status_code == 401
    old = running.platform.api(
        "POST", "/api/v1/sessions", json={"email": email, "password": PASSWORD}
    )
    assert old.status_code == 401
    assert sign_in(running, email, "Quiet-Harbour-77").access_token


def test_wrong_password_and_unknown_address_look_alike(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    wrong = running.platform.api(
        "POST", "/api/v1/sessions", json={"email": email, "password": "Not-The-Password-1"}
    )
    unknown = running.platform.api(
        "POST", "/api/v1/sessions", json={"email": new_email(), "password": "Not-The-Password-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_credentials",
            "message": "Wrong email address or password.",
        }
    )


def test_fifty_parallel_guesses_get_five_free_tries(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)

    def guess(n: int) -> int:
        return running.platform.api(
            "POST", "/api/v1/sessions", json={"email": email, "password": f"Guess-{n:04d}-Xy"}
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(guess, range(50)))
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 45
    assert set(statuses) <= {401, 429}
    locked = running.platform.api(
        "POST", "/api/v1/sessions", json={"email": email, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert locked.json()["error"] == "too_many_attempts"


def test_the_emailed_code_works_once_for_its_own_sign_in(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    known = len(one_time_codes(running, email))
    challenge = start_sign_in(running, email)
    code = next_code(running, email, known)
    finish_sign_in(running, challenge, code)
    reused = running.platform.api(
        "POST", "/api/v1/sessions/two-factor", json={"challenge_id": challenge, "code": code}
    )
    assert reused.status_code == 401 and reused.json()["error"] == "invalid_code"


def test_signing_out_of_the_pages_ends_the_session_at_identity(running: Running) -> None:
    email = new_email()
    activate(running, running.platform.token(uuid.uuid4()), email)
    pages = sign_in_on_the_pages(running, email)
    browser, token, gateway = pages.browser, pages.csrf_token, running.platform.gateway
    kept = pages.kept()
    assert me(running, kept["auth"]["access"]).status_code == 200
    out = browser.post(f"{gateway}/deconnexion", data={"csrf_token": token}, timeout=30)
    assert out.url.endswith("/connexion")
    assert me(running, kept["auth"]["access"]).status_code == 401
    assert refresh(running, kept["auth"]["refresh"]).status_code == 401
    assert browser.get(f"{gateway}/tableau-de-bord", timeout=10).url.endswith("/connexion")
