"""`make bench-invite`: a 10,000-row roster through the gateway until a local SMTP sink has
accepted 10,000 emails, and in the same run raw smtplib sending to the same sink. The
platform runs as it is deployed: gunicorn web processes and separate workers, on RabbitMQ
(AMQP_URL) and PostgreSQL (DATABASE_URL, a server; fresh databases are made) when set, else
on the embedded filesystem bus and SQLite. BENCH_ROWS changes the roster size."""

from __future__ import annotations

import email.policy
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from email.message import EmailMessage
from pathlib import Path

import summary
from benchkit import Processes, databases, drop, free_port, new_ports, platform_env, wait_for
from sqlalchemy import create_engine, text
from summary import at_most, told

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("BENCH_ROWS", 10_000))
SERVICES = ("invitations", "notifier")


def sink_count(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return int(response.read())


def trace(urls: dict[str, str], sink_http: int, stop: threading.Event, started: float) -> None:
    """BENCH_TRACE=1: every 2 s, how far each stage has come."""
    engines = {s: create_engine(u) for s, u in urls.items()}
    while not stop.wait(2):
        with engines["invitations"].connect() as db:
            issued = db.scalar(text("SELECT count(*) FROM invitations"))
            relayed = db.scalar(text("SELECT count(*) FROM bus_outbox WHERE sent_at IS NOT NULL"))
        with engines["notifier"].connect() as db:
            queued = db.scalar(text("SELECT count(*) FROM outgoing_email"))
            sent = db.scalar(text("SELECT count(*) FROM outgoing_email WHERE status <> 'queued'"))
        print(
            f"  t={time.perf_counter() - started:5.1f}s issued={issued} relayed={relayed} "
            f"queued={queued} delivered={sent} at-sink={sink_count(sink_http)}",
            flush=True,
        )


def raw_message(i: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Nexam <no-reply@nexam.localhost>"
    message["To"] = f"candidate{i}@example.org"
    message["Subject"] = "Invitation to Nexam"
    message["Message-ID"] = f"<{uuid.uuid4()}@nexam.localhost>"
    body = "Your invitation code is 7KQ2-M9XD-4PRT-WZ3H.\n" * 30
    message.set_content(body)
    message.add_alternative("<p>" + body.replace("\n", "<br>\n") + "</p>", subtype="html")
    return message


def raw_rate(smtp_port: int, http_port: int) -> float:
    messages = [raw_message(i).as_bytes(policy=email.policy.SMTP) for i in range(ROWS)]
    before = sink_count(http_port)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
        for i, raw in enumerate(messages):
            smtp.sendmail("no-reply@nexam.localhost", [f"candidate{i}@example.org"], raw)
    wait_for("the raw emails", lambda: sink_count(http_port) - before >= ROWS, 600)
    return ROWS / (time.perf_counter() - started)


def roster() -> bytes:
    lines = ["email,first_name,last_name,evaluation_ref,evaluation_name,language"]
    for i in range(ROWS):
        language = "fr" if i % 2 else "en"
        lines.append(f"candidate{i}@example.org,Candidate,{i},BENCH-2026,Benchmark exam,{language}")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="nexam-bench-"))
    urls, created = databases(folder, SERVICES)
    allotted = new_ports(SERVICES)
    smtp_port, sink_http, gateway_port = allotted.smtp, allotted.sink_http, allotted.gateway
    ports = allotted.services
    env = platform_env(folder, urls, allotted)
    python = sys.executable
    (folder / "logs").mkdir()
    platform = Processes(folder, env, ROOT)
    ok = False

    try:
        platform.start(
            "smtp sink",
            python,
            str(ROOT / "tests/bench/smtp_sink.py"),
            str(smtp_port),
            str(sink_http),
        )
        platform.migrate(SERVICES)
        platform.web("gateway", gateway_port, 2, 4)
        platform.web("invitations", ports["invitations"], 2, 4)
        platform.start("invitations worker", python, "-m", "invitations.worker")
        platform.start("notifier consumer", python, "-m", "notifier.worker", "--only", "consume")
        # the second notifier process
        platform.env["NOTIFIER_WORKER_METRICS_PORT"] = str(free_port())
        platform.start("notifier delivery", python, "-m", "notifier.worker", "--only", "deliver")
        wait_for("the sink", lambda: _answers(f"http://127.0.0.1:{sink_http}/"), 30)
        for port in (gateway_port, ports["invitations"]):
            wait_for(
                "the web processes",
                lambda port=port: _answers(f"http://127.0.0.1:{port}/healthz"),
                60,
            )
        token = json.loads(
            subprocess.run(
                [
                    python,
                    "-m",
                    "flask",
                    "--app",
                    "gateway",
                    "dev-token",
                    "--institution",
                    str(uuid.uuid4()),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )["access_token"]

        body = roster()
        started = time.perf_counter()
        request = urllib.request.Request(
            f"http://127.0.0.1:{gateway_port}/api/v1/invitations/bulk",
            data=body,
            method="POST",
            headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            accepted = json.loads(response.read())
        answered = time.perf_counter() - started
        tracing = threading.Event()
        if os.environ.get("BENCH_TRACE"):
            args = (urls, sink_http, tracing, started)
            threading.Thread(target=trace, args=args, daemon=True).start()
        first: list[float] = []

        def all_arrived() -> bool:
            count = sink_count(sink_http)
            if count and not first:
                first.append(time.perf_counter() - started)
            return count >= ROWS

        wait_for("every email at the sink", all_arrived, 1800)
        total = time.perf_counter() - started
        tracing.set()
        platform_rate = ROWS / total
        raw = raw_rate(smtp_port, sink_http)
        backend = "PostgreSQL" if created else "SQLite"
        bus = "RabbitMQ" if "AMQP_URL" in os.environ else "filesystem bus"
        print(f"bench-invite: {ROWS} rows through the gateway ({backend}, {bus})")
        print(f"  roster accepted (202) ....... {answered:8.2f} s, {accepted['accepted']} rows")
        print(f"  first email at the sink ..... {first[0]:8.2f} s")
        print(f"  every email at the sink ..... {total:8.2f} s")
        print(f"  platform .................... {platform_rate:8.0f} emails/s")
        print(f"  raw smtplib, same sink ...... {raw:8.0f} emails/s")
        print(f"  ratio platform / raw ........ {platform_rate / raw:8.2f}")
        figures = [
            told("roster accepted (202)", answered, "s", 2),
            at_most(
                f"every one of {ROWS:,} emails at the sink", total, 12.0 * ROWS / 10_000, "s", 1
            ),
            told("platform", platform_rate, "emails/s", 0),
            told("raw smtplib, one connection, same sink", raw, "emails/s", 0),
        ]
        recorded = summary.record("bench-invite", f"{backend}, {bus}, {ROWS:,} rows", figures)
        print(f"  figures recorded in {recorded.relative_to(ROOT)}")
        ok = True
    finally:
        platform.stop()
        drop(created)
        if ok:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"bench-invite: the processes' logs are in {folder / 'logs'}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
