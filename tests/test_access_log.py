"""Access logs carry no secret (DESIGN section 5): the emailed links hold the invitation code
and the reset token in their query string, and a web process started exactly as its
Dockerfile starts it writes ``[redacted]`` in their place."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from test_deploy import PACKAGES, _dockerfile_cmd

from contracts.events.codes import new_code
from contracts.testing.bus import wait_until

REDACTED = "[redacted]"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _deployed_command(package: str, port: int) -> list[str]:
    """The Dockerfile's CMD, listening on a local port, with gunicorn from this virtualenv."""
    command = _dockerfile_cmd(PACKAGES[package] / "Dockerfile")
    assert command[0] == "gunicorn", command
    command[0] = str(Path(sys.executable).parent / "gunicorn")
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return command


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_the_access_log_redacts_the_secrets_of_links(package: str, tmp_path: Path) -> None:
    code, token = new_code(), "Vq3xD0c8Hk2mP4wL9sT1yB6nR5eJ7aZ0uF3gC8hK2mQ"
    port = _free_port()
    log_file = tmp_path / "stdout.log"
    env = {
        **os.environ,
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        "PYTHONUNBUFFERED": "1",
    }
    with open(log_file, "wb") as out:
        server = subprocess.Popen(
            _deployed_command(package, port), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), 60, f"{package} to listen")
        links = [
            f"/connexion/code-invitation?code={code}&lang=fr",
            f"/connexion/reset-password?token={token}",
            f"/connexion/sso/callback?state=s&code={code}",
        ]
        for link in links:
            requests.get(
                base + link,
                headers={"Referer": f"{base}/connexion/reset-password?token={token}"},
                timeout=10,
                allow_redirects=False,
            )
        wait_until(
            lambda: log_file.read_text().count("/connexion/") >= len(links),
            30,
            "the access log lines",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = log_file.read_text()
    assert code not in log and token not in log, log
    assert f"/connexion/code-invitation?code={REDACTED}&lang=fr" in log, log
    assert f"/connexion/reset-password?token={REDACTED}" in log, log
    assert f"/connexion/sso/callback?state={REDACTED}&code={REDACTED}" in log, log


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
