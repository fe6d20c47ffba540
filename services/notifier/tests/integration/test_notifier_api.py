"""The operator's view of deliveries, ``GET /api/v1/deliveries``, on SQLite and PostgreSQL,
with real gateway-signed tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from notifier_testkit import (
    CODE_EXAMPLE,
    FakeSender,
    Notifier,
    clock_at_now,
    event,
    invitation,
    notifier_settings,
)

from contracts.runtime.auth import TokenVerifier
from gateway.keys import SigningKey, load_signing_key
from gateway.tokens import mint_access_token
from notifier import create_app
from notifier.delivery import deliver_due


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return load_signing_key(tmp_path / "k.pem", generate=True)


@pytest.fixture
def notifier(tmp_path: Path, database_url: str) -> Iterator[Notifier]:
    service = Notifier(notifier_settings(tmp_path, database_url, smtp_port=1), clock_at_now())
    yield service
    service.close()


@pytest.fixture
def app(notifier: Notifier, key: SigningKey) -> Iterator[Flask]:
    settings = notifier.settings.service
    verifier = TokenVerifier(settings.token_issuer, settings.token_audience, jwks=key.jwks())
    flask_app = create_app(notifier.settings, verifier=verifier)
    yield flask_app
    flask_app.extensions["nexam.runtime"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(notifier: Notifier, key: SigningKey, *roles: str) -> dict[str, str]:
    settings = notifier.settings.service
    minted = mint_access_token(
        key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        subject=str(uuid.uuid4()),
        roles=roles,
        institution=None,
        amr=["pwd"],
        lifetime=timedelta(minutes=15),
    )
    return {"Authorization": f"Bearer {minted}"}


@pytest.fixture
def operator(notifier: Notifier, key: SigningKey) -> dict[str, str]:
    return token(notifier, key, "operator")


def get(client: FlaskClient, headers: dict[str, str], **query: Any) -> Any:
    return client.get("/api/v1/deliveries", query_string=query, headers=headers)


def test_deliveries_by_address_with_the_code_redacted(
    client: FlaskClient, notifier: Notifier, operator: dict[str, str]
) -> None:
    issued = invitation(email="Ada.Lovelace@Example.org")
    notifier.handle(issued, invitation(email="grace.hopper@example.org"))
    deliver_due(notifier.delivery(FakeSender()))

    response = get(client, operator, email="ADA.lovelace@example.ORG")

    assert response.status_code == 200, response.json
    (item,) = response.json["items"]
    assert item["event_id"] == str(issued.id)
    assert item["event_type"] == "InvitationIssued"
    assert item["recipient"] == "Ada.Lovelace@Example.org"
    assert item["subject"] == "Invitation to Nexam"
    assert item["status"] == "delivered"
    assert item["attempts"] == 1
    assert item["last_error"] is None
    assert item["created_at"] and item["sent_at"]
    assert item["invitation_id"] == str(issued.data["invitation_id"])
    assert item["text"].startswith("Hello Ada,")
    assert "Mathematics 101 final exam" in item["text"]
    assert "[redacted]" in item["text"]
    assert CODE_EXAMPLE not in response.get_data(as_text=True)
    assert response.json["next_cursor"] is None


def test_a_queued_code_is_redacted_too(
    client: FlaskClient, notifier: Notifier, operator: dict[str, str]
) -> None:
    requested = event("TwoFactorCodeRequested", code="482913")
    notifier.handle(requested)

    response = get(client, operator, event_id=str(requested.id))

    (item,) = response.json["items"]
    assert item["status"] == "queued" and item["sent_at"] is None
    assert item["next_attempt_at"]
    assert "482913" not in response.get_data(as_text=True)
    assert "[redacted]" in item["text"]


def test_deliveries_by_event_show_failures_with_their_reason(
    client: FlaskClient, notifier: Notifier, operator: dict[str, str]
) -> None:
    import smtplib

    refused = invitation(email="grace.hopper@example.org")
    notifier.handle(refused, invitation())
    sender = FakeSender()
    sender.fail_with["grace.hopper@example.org"] = lambda: smtplib.SMTPRecipientsRefused(
        {"grace.hopper@example.org": (550, b"5.1.1 User unknown")}
    )
    deliver_due(notifier.delivery(sender))

    response = get(client, operator, event_id=str(refused.id))

    (item,) = response.json["items"]
    assert item["status"] == "failed"
    assert item["last_error"] == "550 5.1.1 User unknown"
    assert item["failed_at"]


def test_deliveries_come_newest_first_a_page_at_a_time(
    client: FlaskClient, notifier: Notifier, operator: dict[str, str]
) -> None:
    events = [invitation(email="ada.lovelace@example.org") for _ in range(5)]
    notifier.handle(*events)

    seen: list[str] = []
    cursor: str | None = None
    for _page in range(5):
        query: dict[str, Any] = {"email": "ada.lovelace@example.org", "limit": 2}
        if cursor:
            query["cursor"] = cursor
        body = get(client, operator, **query).json
        seen += [item["event_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [str(e.id) for e in reversed(events)]


def test_no_match_is_an_empty_page(
    client: FlaskClient, notifier: Notifier, operator: dict[str, str]
) -> None:
    notifier.handle(invitation())

    assert get(client, operator, email="nobody@example.org").json == {
        "items": [],
        "next_cursor": None,
    }
    assert get(client, operator, event_id=str(uuid.uuid4())).json["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"email": "not-an-address"},
        {"email": "ada\x00@example.org"},
        {"email": "a" * 320 + "@example.org"},
        {"event_id": "not-a-uuid"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "many"},
        {"cursor": "not a cursor!"},
    ],
)
def test_bad_parameters_are_a_422_with_the_error_shape(
    client: FlaskClient, operator: dict[str, str], query: dict[str, str]
) -> None:
    response = get(client, operator, **query)

    assert response.status_code == 422
    assert response.json["error"] == "validation_error"
    assert response.json["message"]


@pytest.mark.parametrize(
    "cursor", ["AAAA", "ZDA", "ZC0x", "eDEy", "ZDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"]
)
def test_a_cursor_this_api_did_not_give_out_is_a_400(
    client: FlaskClient, operator: dict[str, str], cursor: str
) -> None:
    response = get(client, operator, cursor=cursor)

    assert response.status_code == 400
    assert response.json == {
        "error": "bad_cursor",
        "message": "This cursor is not valid; start from the first page.",
    }


def test_without_a_token_it_is_401(client: FlaskClient) -> None:
    response = get(client, {}, email="ada.lovelace@example.org")

    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_token_is_401(client: FlaskClient, notifier: Notifier, tmp_path: Path) -> None:
    other_key = load_signing_key(tmp_path / "other.pem", generate=True)

    response = get(client, token(notifier, other_key, "operator"))

    assert response.status_code == 401


def test_a_coordinator_is_refused_with_403(
    client: FlaskClient, notifier: Notifier, key: SigningKey
) -> None:
    response = get(client, token(notifier, key, "coordinator"), email="ada.lovelace@example.org")

    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_bad_parameters_without_a_token_are_still_401(client: FlaskClient) -> None:
    assert get(client, {}, limit="many").status_code == 401


def test_the_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/openapi.json").json

    operation = document["paths"]["/api/v1/deliveries"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"email", "event_id", "cursor", "limit"}
    assert {"200", "400", "401", "403", "422"} <= set(operation["responses"])


def test_no_parameters_an_operator_can_send_make_a_server_error(
    app: Flask, operator: dict[str, str], notifier: Notifier
) -> None:
    """Property-based, with a valid operator token so the fuzzing reaches the query itself
    (the repository-wide fuzz test stops at the 401)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    notifier.handle(invitation(), event("TwoFactorCodeRequested"))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operation = schema["/api/v1/deliveries"]["GET"]
    statuses: set[int] = set()
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=operator)
            statuses.add(response.status_code)
            assert response.status_code < 500, (case.query, response.text[:300])

        never_a_server_error()

    assert 200 in statuses and statuses & {400, 422}
