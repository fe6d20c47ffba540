"""The pages keep a standing session through a busy or unreachable identity (DESIGN section
5): only "your session has ended" drops the tokens; a 429 or a 5xx at refresh time keeps them
and the page, or the exam page's script, tries again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_gateway_sessions import FakeIdentity, identity, make_gateway  # noqa: F401

REFRESH = "/internal/v1/sessions/refresh"
CSRF = {"X-CSRF-Token": "the-token"}


def signed_in(app: Flask, expires_in: int) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["auth"] = {
            "access": "old-access",
            "refresh": "old-refresh",
            "expires_at": int(time.time()) + expires_in,
        }
        session["csrf"] = "the-token"
    return client


def kept_auth(client: FlaskClient) -> Any:
    with client.session_transaction() as session:
        return session.get("auth")


def save(client: FlaskClient) -> Any:
    return client.put(
        "/app/api/v1/attempts/7d1c8a9e-51c4-4a55-9e1b-2f61f0c6f0b1/answer",
        json={"content": "x", "revision": 1},
        headers=CSRF,
    )


BUSY = [
    (429, {"error": "too_many_attempts", "message": "Too many"}, {"Retry-After": "7"}),
    (503, {"error": "service_unavailable", "message": "Down"}, {}),
    (500, None, {}),
]


@pytest.mark.parametrize("refused", BUSY, ids=["429", "503", "500"])
def test_an_expired_token_and_a_busy_identity_keep_the_session(
    make_gateway: Callable[..., Flask],  # noqa: F811
    identity: FakeIdentity,  # noqa: F811
    refused: tuple[int, Any, dict[str, str]],
) -> None:
    identity.answers[REFRESH] = refused
    client = signed_in(make_gateway(), expires_in=-5)
    answer = save(client)
    assert answer.status_code == 503
    assert answer.json is not None and answer.json["error"] == "service_unavailable"
    assert int(answer.headers["Retry-After"]) == (7 if refused[0] == 429 else 5)
    assert kept_auth(client)["refresh"] == "old-refresh"  # nothing dropped

    # identity answers again: the same refresh token renews the session
    del identity.answers[REFRESH]
    save(client)
    renewed = kept_auth(client)
    assert renewed["refresh"].startswith("refresh-") and renewed["access"] != "old-access"
    assert [c.json["refresh_token"] for c in identity.calls_to(REFRESH)] == ["old-refresh"] * 2


def test_a_busy_identity_before_the_token_expires_lets_the_call_through(
    make_gateway: Callable[..., Flask],  # noqa: F811
    identity: FakeIdentity,  # noqa: F811
) -> None:
    """Inside the early-refresh window the access token still works: it is used as it is."""
    identity.answers[REFRESH] = BUSY[0]
    client = signed_in(make_gateway(), expires_in=20)
    answer = save(client)
    # the exams service is a closed port here: the relay got as far as calling it
    assert answer.status_code == 503 and answer.json is not None
    assert answer.json["message"] == "The service is unavailable. Try again shortly."
    assert len(identity.calls_to(REFRESH)) == 1
    assert kept_auth(client)["access"] == "old-access"


def test_an_unreachable_identity_keeps_the_session(tmp_path: Any) -> None:
    from test_gateway_pages import gateway

    client = signed_in(gateway(tmp_path), expires_in=-5)  # every service a closed port
    assert save(client).status_code == 503
    assert kept_auth(client)["refresh"] == "old-refresh"


def test_a_page_with_a_busy_identity_says_so_and_keeps_the_session(
    make_gateway: Callable[..., Flask],  # noqa: F811
    identity: FakeIdentity,  # noqa: F811
) -> None:
    identity.answers[REFRESH] = BUSY[1]
    client = signed_in(make_gateway(), expires_in=-5)
    page = client.get("/appareil", headers={"Accept-Language": "fr"})
    assert page.status_code == 503  # not a redirection to the sign-in page
    assert "Service indisponible" in page.get_data(as_text=True)
    assert kept_auth(client)["refresh"] == "old-refresh"


def test_an_ended_session_drops_the_tokens(
    make_gateway: Callable[..., Flask],  # noqa: F811
    identity: FakeIdentity,  # noqa: F811
) -> None:
    identity.answers[REFRESH] = (
        401,
        {"error": "invalid_grant", "message": "Your session has ended. Sign in again."},
        {},
    )
    client = signed_in(make_gateway(), expires_in=-5)
    answer = save(client)
    assert answer.status_code == 401
    assert answer.json is not None and answer.json["error"] == "signed_out"
    assert kept_auth(client) is None
