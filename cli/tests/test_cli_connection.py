"""How ``nexam`` connects: missing, refused and client credentials, an unreachable or
invalid address, and the command run as a process; secrets never shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_testkit import (
    CLIENT_ID,
    CLIENT_SECRET,
    Platform,
    closed_port,
    counted,
    nexam,
    roster_rows,
    tag,
    write_csv,
)


def test_missing_or_refused_credentials_exit_2_with_a_clear_message(
    platform: Platform, env: dict[str, str | None]
) -> None:
    nothing = nexam({**env, "NEXAM_TOKEN": None}, "invitations", "list")
    assert nothing.exit_code == 2
    assert "No credentials: set NEXAM_TOKEN" in nothing.stderr

    half = nexam({**env, "NEXAM_TOKEN": None, "NEXAM_CLIENT_ID": CLIENT_ID}, "invitations", "list")
    assert half.exit_code == 2
    assert "NEXAM_CLIENT_SECRET is not set" in half.stderr

    forged = "eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl"
    refused = nexam({**env, "NEXAM_TOKEN": forged}, "invitations", "list")
    assert refused.exit_code == 2
    assert "The token is invalid or has expired." in refused.stderr
    assert forged not in refused.output


def test_client_credentials_are_exchanged_for_a_token(
    platform: Platform, env: dict[str, str | None], tmp_path: Path
) -> None:
    clients = {
        **env,
        "NEXAM_URL": platform.gateway_url,
        "NEXAM_TOKEN": None,
        "NEXAM_CLIENT_ID": CLIENT_ID,
        "NEXAM_CLIENT_SECRET": CLIENT_SECRET,
    }
    roster = write_csv(tmp_path / "roster.csv", roster_rows(2, prefix=tag()))
    before = platform.token_endpoint.exchanges

    result = nexam(clients, "invite", str(roster), "--interval", "0.1")

    assert result.exit_code == 0, result.output
    assert platform.token_endpoint.exchanges == before + 1  # one token for the whole run
    assert counted(result.stdout, "issued") == 2

    wrong = nexam({**clients, "NEXAM_CLIENT_SECRET": "wrong-secret"}, "invitations", "list")
    assert wrong.exit_code == 2
    assert "were refused: Unknown client or wrong secret." in wrong.stderr
    assert "wrong-secret" not in wrong.output

    # the service itself has no token endpoint yet (the gateway's, in a later issue)
    absent = nexam({**clients, "NEXAM_URL": platform.url}, "invitations", "list")
    assert absent.exit_code == 2
    assert "does not offer API-client sign-in yet" in absent.stderr
    assert "Set NEXAM_TOKEN" in absent.stderr
    assert CLIENT_SECRET not in absent.output


def test_an_unreachable_platform_exits_2_without_a_traceback(env: dict[str, str | None]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"

    result = nexam({**env, "NEXAM_URL": url}, "invitations", "list")

    assert result.exit_code == 2
    assert f"Cannot reach NEXAM_URL ({url}): connection refused." in result.stderr
    bad = nexam({**env, "NEXAM_URL": "ftp://example.org"}, "invitations", "list")
    assert bad.exit_code == 2
    assert "must be an http:// or https:// address" in bad.stderr


def test_the_command_runs_as_a_process(env: dict[str, str | None]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    environ = {k: v for k, v in env.items() if v is not None} | {"NEXAM_URL": url}
    environ["PATH"] = ""

    process = subprocess.run(
        [sys.executable, "-m", "nexam_cli", "invitations", "list"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert process.returncode == 2
    assert "Cannot reach NEXAM_URL" in process.stderr
    assert "Traceback" not in process.stderr
    assert str(env["NEXAM_TOKEN"]) not in process.stdout + process.stderr
