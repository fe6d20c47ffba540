"""The invitation email's code redeems at the activation endpoint (issue 4's first step):
typed loosely it still works; unknown, replaced, revoked or expired it gets one answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import CODE, Running, run_platform, text_of

from contracts.events.codec import decode
from contracts.events.examples import load_example
from contracts.runtime.migrations import upgrade
from contracts.testing.bus import wait_until
from identity import create_app
from identity.config import Settings
from identity.handlers import handlers

INVALID = {
    "error": "invitation_code_invalid",
    "message": "Invitation code does not exist or has expired",
}
INVALID_FR = {
    "error": "invitation_code_invalid",
    "message": "Le code d'invitation n'existe pas ou a expiré",
}


@pytest.fixture
def running(
    tmp_path: Path, amqp_url: str, new_postgres_database: Callable[[], str]
) -> Iterator[Running]:
    yield from run_platform(
        tmp_path,
        amqp_url,
        lambda _s: new_postgres_database(),
        ("identity", "invitations", "notifier"),
    )


def invite(running: Running, token: str, email: str) -> tuple[str, str]:
    created = running.platform.invite(token, email)
    found = CODE.search(text_of(running.mail.wait_for(1, to=email)[-1]))
    assert found is not None
    return str(created["id"]), found.group(0)


def activate(running: Running, code: str, **headers: str) -> tuple[int, dict[str, object]]:
    answer = running.platform.api(
        "POST", "/api/v1/activation", json={"code": code}, headers=headers
    )
    return answer.status_code, answer.json()


def redeemable(running: Running, code: str) -> bool:
    return activate(running, code)[0] == 200


def test_the_emailed_code_redeems_however_it_is_typed(running: Running) -> None:
    token = running.platform.token(uuid.uuid4())
    _id, code = invite(running, token, "ada@example.org")
    wait_until(lambda: redeemable(running, code), 30, "identity to know the code")
    status, body = activate(running, code)
    assert status == 200
    assert body["email"] == "ada@example.org" and body["first_name"] == "Ada"
    assert [s["name"] for s in body["steps"]] == ["password", "language", "terms", "two_factor"]
    assert not any(s["done"] for s in body["steps"])
    loose = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    assert activate(running, loose)[0] == 200
    steps = running.platform.api(
        "GET", "/api/v1/activation", headers={"Authorization": f"Bearer {body['activation_token']}"}
    )
    assert steps.status_code == 200 and steps.json()["email"] == "ada@example.org"
    assert (
        running.platform.api(
            "GET", "/api/v1/activation", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )


def test_unknown_replaced_and_revoked_codes_get_one_answer(running: Running) -> None:
    token = running.platform.token(uuid.uuid4())
    invitation_id, first = invite(running, token, "grace@example.org")
    wait_until(lambda: redeemable(running, first), 30, "identity to know the code")
    assert (
        running.platform.api(
            "POST", f"/api/v1/invitations/{invitation_id}/resend", token
        ).status_code
        == 200
    )
    second = CODE.search(text_of(running.mail.wait_for(2, to="grace@example.org")[-1]))
    assert second is not None
    wait_until(lambda: redeemable(running, second.group(0)), 30, "the new code")
    assert activate(running, first) == (404, INVALID)
    assert activate(running, "AAAA-BBBB-CCCC-DDDD") == (404, INVALID)
    assert activate(running, "not a code") == (404, INVALID)
    assert activate(running, "AAAA-BBBB-CCCC-DDDD", **{"Accept-Language": "fr-CA,fr;q=0.9"}) == (
        404,
        INVALID_FR,
    )
    assert (
        running.platform.api(
            "POST", f"/api/v1/invitations/{invitation_id}/revoke", token
        ).status_code
        == 200
    )
    wait_until(lambda: not redeemable(running, second.group(0)), 30, "the revoked code to stop")
    assert activate(running, second.group(0)) == (404, INVALID)


def test_a_code_expires_30_days_after_it_was_issued(tmp_path: Path, database_url: str) -> None:
    env = {
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "IDENTITY_DATABASE_URL": database_url,
        "BUS_URL": f"filesystem://{tmp_path}/bus",
    }
    upgrade("identity", database_url)
    settings = Settings.from_env(env)
    issued_at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    now = [issued_at]
    app = create_app(settings, clock=lambda: now[0])
    example = load_example("InvitationIssued")
    example["data"]["expires_at"] = (issued_at + timedelta(days=30)).isoformat()
    event = decode(example)
    runtime = app.extensions["nexam.runtime"]
    handling = handlers(
        settings.code_key,
        lambda: now[0],
        public_url=settings.service.public_url,
        outbox=runtime.outbox,
    )
    with runtime.sessions() as session, session.begin():
        handling["InvitationIssued"](session, event)
    client = app.test_client()
    code = event.data["code"]
    now[0] = issued_at + timedelta(days=30) - timedelta(seconds=1)
    assert client.post("/api/v1/activation", json={"code": code}).status_code == 200
    now[0] = issued_at + timedelta(days=30, seconds=1)
    answer = client.post("/api/v1/activation", json={"code": code})
    assert (answer.status_code, answer.json) == (404, INVALID)
