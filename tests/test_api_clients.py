"""API clients end to end: an operator creates one with nexam-admin, the client signs in at
the gateway with client credentials, and its token works for its own institution only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from harness import Running, run_platform

from identity.admin import main as nexam_admin
from nexam_cli import cli as nexam

TOKEN = "/api/v1/oauth/token"


@pytest.fixture
def running(
    tmp_path: Path, database_url: str, new_postgres_database: Callable[[], str]
) -> Iterator[Running]:
    databases = {"identity": database_url}

    def url_for(service: str) -> str:
        if service not in databases:
            databases[service] = (
                f"sqlite:///{tmp_path}/{service}.db"
                if database_url.startswith("sqlite")
                else new_postgres_database()
            )
        return databases[service]

    yield from run_platform(
        tmp_path, f"filesystem://{tmp_path}/bus", url_for, ("identity", "invitations")
    )


def admin(running: Running, *args: str) -> Any:
    env = {"IDENTITY_DATABASE_URL": running.platform.env["IDENTITY_DATABASE_URL"]}
    result = CliRunner().invoke(nexam_admin, list(args), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if result.output.strip() else None


def new_client(running: Running, institution: str) -> dict[str, str]:
    admin(running, "institution", "create", institution)
    return dict(
        admin(running, "api-client", "create", "--institution", institution, "--name", "SIS")
    )


def sign_in(running: Running, client_id: str, secret: str) -> requests.Response:
    return running.platform.api(
        "POST",
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def test_a_client_signs_in_and_works_within_its_institution(running: Running) -> None:
    client = new_client(running, "Université Exemple")
    answer = sign_in(running, client["client_id"], client["client_secret"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert answer.headers["Cache-Control"] == "no-store"
    token = body["access_token"]
    created = running.platform.api(
        "POST",
        "/api/v1/invitations",
        token,
        json={
            "email": "ada@example.org",
            "first_name": "Ada",
            "last_name": "L",
            "evaluation": {"ref": "R", "name": "N"},
        },
    )
    assert created.status_code == 201, created.text
    other = new_client(running, "Autre École")
    other_token = sign_in(running, other["client_id"], other["client_secret"]).json()[
        "access_token"
    ]
    assert (
        running.platform.api(
            "GET", f"/api/v1/invitations/{created.json()['id']}", other_token
        ).status_code
        == 404
    )
    assert running.platform.api("GET", "/api/v1/invitations", other_token).json()["items"] == []


def test_wrong_secret_and_unknown_client_look_the_same(running: Running) -> None:
    client = new_client(running, "Institut")
    wrong = sign_in(running, client["client_id"], "not-the-secret")
    unknown = sign_in(running, "nxc_000000000000000000000000", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": "invalid_client", "message": "Unknown client or wrong secret."}
    )
    unsupported = running.platform.api("POST", TOKEN, data={"grant_type": "password"})
    assert (
        unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    )
    missing = running.platform.api("POST", TOKEN, data={"grant_type": "client_credentials"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    basic = running.platform.api(
        "POST",
        TOKEN,
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert basic.status_code == 200


def test_rotating_or_deleting_a_client_stops_its_old_secret(running: Running) -> None:
    client = new_client(running, "Collège")
    rotated = admin(running, "api-client", "rotate", client["client_id"])
    assert sign_in(running, client["client_id"], client["client_secret"]).status_code == 401
    assert sign_in(running, client["client_id"], rotated["client_secret"]).status_code == 200
    admin(running, "api-client", "delete", client["client_id"])
    assert sign_in(running, client["client_id"], rotated["client_secret"]).status_code == 401


def test_a_client_token_cannot_use_identity_internals(running: Running) -> None:
    client = new_client(running, "Lycée")
    token = sign_in(running, client["client_id"], client["client_secret"]).json()["access_token"]
    assert (
        running.platform.api("POST", "/internal/v1/api-clients/authenticate", token).status_code
        == 404
    )
    direct = requests.post(
        running.platform.urls["identity"] + "/internal/v1/api-clients/authenticate",
        json={"client_id": client["client_id"], "client_secret": client["client_secret"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert direct.status_code == 403


def test_the_nexam_command_line_signs_in_with_client_credentials(running: Running) -> None:
    client = new_client(running, "Académie")
    env = {
        "NEXAM_URL": running.platform.gateway,
        "NEXAM_CLIENT_ID": client["client_id"],
        "NEXAM_CLIENT_SECRET": client["client_secret"],
        "NEXAM_TOKEN": "",
    }
    result = CliRunner().invoke(nexam, ["invitations", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert client["client_secret"] not in result.output


def test_nexam_admin_refuses_clearly(running: Running) -> None:
    env = {"IDENTITY_DATABASE_URL": running.platform.env["IDENTITY_DATABASE_URL"]}
    result = CliRunner().invoke(
        nexam_admin, ["api-client", "create", "--institution", "Nowhere", "--name", "x"], env=env
    )
    assert result.exit_code == 1 and "No institution named 'Nowhere'" in result.output
    admin(running, "institution", "create", "Twice")
    again = CliRunner().invoke(nexam_admin, ["institution", "create", "Twice"], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    assert uuid.UUID(admin(running, "institution", "list")[0]["institution_id"])
