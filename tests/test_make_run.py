"""`make run` on the embedded default: every web process healthy, the dev mailbox up, an
event staged by one service handled by the others and its email in the dev mailbox, and
Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts.runtime.settings import PORTS, WORKER_METRICS_OFFSET
from contracts.testing.bus import wait_until

ROOT = Path(__file__).resolve().parents[1]
WEB_PORTS = dict(PORTS)
WORKER_PORTS = [port + WORKER_METRICS_OFFSET for name, port in PORTS.items() if name != "gateway"]
ALL_PORTS = [*WEB_PORTS.values(), *WORKER_PORTS, 1025, 8025]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def text_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def mailbox_subjects(recipient: str) -> list[str]:
    """What maildump's REST API lists for ``recipient``."""
    listed = json.loads(text_of("http://127.0.0.1:8025/messages/"))["messages"]
    return [m["subject"] for m in listed if recipient in m["recipients"]["to"]]


def handled(service: str, event_type: str) -> float:
    port = WEB_PORTS[service] + WORKER_METRICS_OFFSET
    wanted = {"service": service, "type": event_type, "outcome": "handled"}
    for family in text_string_to_metric_families(text_of(f"http://127.0.0.1:{port}/metrics")):
        for sample in family.samples:
            if sample.name == "nexam_bus_consumed_total" and sample.labels == wanted:
                return float(sample.value)
    return 0.0


@pytest.mark.slow
def test_make_run_starts_the_platform_and_carries_an_event(tmp_path: Path) -> None:
    busy = [p for p in ALL_PORTS if port_in_use(p)]
    if busy:
        pytest.fail(f"ports already in use, stop what holds them: {busy}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "BUS_URL": "filesystem://",
    }
    log = (tmp_path / "make-run.log").open("w+b")
    run = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for name, port in WEB_PORTS.items():
            wait_until(
                lambda port=port: answers(f"http://127.0.0.1:{port}/healthz"),
                30,
                f"{name} /healthz",
            )
        wait_until(lambda: answers("http://127.0.0.1:8025/"), 30, "the dev mailbox")
        for name, port in WEB_PORTS.items():
            assert answers(f"http://127.0.0.1:{port}/readyz"), f"{name} is not ready"
        wait_until(lambda: b"Nexam is running" in (ROOT / log.name).read_bytes(), 30, "the banner")

        emitted = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "invitations",
                "bus",
                "emit-example",
                "InvitationIssued",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert emitted.returncode == 0, emitted.stderr
        for consumer in ("notifier", "identity", "exams"):
            wait_until(
                lambda c=consumer: handled(c, "InvitationIssued") == 1.0,
                30,
                f"{consumer} to handle it",
            )
        wait_until(
            lambda: mailbox_subjects("ada.lovelace@example.org") == ["Invitation to Nexam"],
            30,
            "the invitation email in the dev mailbox",
        )
        assert (tmp_path / "var" / "maildump.sqlite").is_file()
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
        log.close()
    output = (tmp_path / "make-run.log").read_text(errors="replace")
    assert "http://127.0.0.1:8025" in output
    wait_until(lambda: not any(port_in_use(p) for p in ALL_PORTS), 15, "every port to be released")
