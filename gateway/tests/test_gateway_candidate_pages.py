"""The exam pages' relay without the services: what a page script gets when the session has
ended, when the CSRF header is missing, for a path no service owns, and when the owning
service is down; and the exam pages send a signed-out visitor to the sign-in page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from test_gateway_pages import gateway


def signed_in(tmp_path: Path) -> FlaskClient:
    client = gateway(tmp_path).test_client()
    with client.session_transaction() as session:
        session["auth"] = {"access": "a", "refresh": "r", "expires_at": int(time.time()) + 600}
        session["csrf"] = "the-token"
    return client


def test_a_script_call_without_a_session_is_told_to_sign_in_again(tmp_path: Path) -> None:
    answer = gateway(tmp_path).test_client().get("/app/api/v1/dashboard")
    assert answer.status_code == 401
    assert answer.json is not None and answer.json["error"] == "signed_out"


def test_a_script_write_needs_the_csrf_header(tmp_path: Path) -> None:
    client = signed_in(tmp_path)
    forged = client.put("/app/api/v1/attempts/x/answer", json={"content": "", "revision": 0})
    assert forged.status_code == 400


def test_only_the_candidate_api_is_relayed(tmp_path: Path) -> None:
    client = signed_in(tmp_path)
    answer = client.get("/app/api/v1/invitations")
    assert answer.status_code == 404
    assert answer.json is not None and answer.json["error"] == "not_found"
    climbing = client.get("/app/api/v1/attempts/%2E%2E/%2E%2E/invitations")
    assert climbing.status_code == 404


def test_a_service_that_is_down_becomes_a_json_refusal(tmp_path: Path) -> None:
    client = signed_in(tmp_path)
    answer = client.post(
        "/app/api/v1/device-checks", json={}, headers={"X-CSRF-Token": "the-token"}
    )
    assert answer.status_code == 503
    assert answer.json is not None and answer.json["error"] == "service_unavailable"


@pytest.mark.parametrize(
    "path",
    [
        "/appareil",
        "/examens/7d1c8a9e-51c4-4a55-9e1b-2f61f0c6f0b1/commencer",
        "/test-technique/commencer",
        "/examen/7d1c8a9e-51c4-4a55-9e1b-2f61f0c6f0b1",
    ],
)
def test_the_exam_pages_send_a_signed_out_visitor_to_sign_in(tmp_path: Path, path: str) -> None:
    answer = gateway(tmp_path).test_client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/connexion")


def test_pages_may_capture_the_screen_but_not_be_framed(tmp_path: Path) -> None:
    answer = gateway(tmp_path).test_client().get("/connexion")
    assert "display-capture=(self)" in answer.headers["Permissions-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
