"""A candidate's way in, by API through the gateway, reading each code from the email it
arrived in: shared by the end-to-end tests and the sign-in benchmark."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

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
