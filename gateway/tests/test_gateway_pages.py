"""The pages' own rules, without the services: the documents' versions, forged forms, the
headers and the session cookie."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from contracts.testing.serving import closed_port_url
from gateway import create_app
from gateway.config import SERVICES, GatewaySettings


def gateway(tmp_path: Path, **environ: str) -> Flask:
    closed = {f"{name.upper()}_URL": closed_port_url() for name in SERVICES}
    env = {"NEXAM_VAR_DIR": str(tmp_path / "var"), **closed, **environ}
    return create_app(GatewaySettings.from_env(env))


def test_the_documents_show_the_versions_identity_asks_for(tmp_path: Path) -> None:
    client = gateway(tmp_path, TERMS_VERSION="2027-01-15", PRIVACY_VERSION="2027-02-01")
    assert "2027-01-15" in client.test_client().get("/conditions-utilisation").text
    assert "2027-02-01" in client.test_client().get("/politique-confidentialite").text


def test_a_form_without_its_token_is_refused_with_a_page(tmp_path: Path) -> None:
    client = gateway(tmp_path).test_client()
    page = client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    forged = client.post("/connexion", data={"email": "a@example.org", "password": "x"})
    assert forged.status_code == 400
    assert forged.mimetype == "text/html"
    assert "This form has expired" in forged.text
    wrong = client.post("/connexion", data={"csrf_token": "not-it", "email": "a@example.org"})
    assert wrong.status_code == 400


def test_pages_carry_the_security_headers_and_a_safe_cookie(tmp_path: Path) -> None:
    answer = gateway(tmp_path).test_client().get("/connexion")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("nexam=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_under_https_the_cookie_is_secure_and_host_only(tmp_path: Path) -> None:
    answer = (
        gateway(tmp_path, PUBLIC_URL="https://exams.example.org")
        .test_client()
        .get("/connexion", base_url="https://exams.example.org")
    )
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-nexam=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
