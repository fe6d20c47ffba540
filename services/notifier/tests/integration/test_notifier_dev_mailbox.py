"""The dev mailbox of `make run` is maildump: what the platform sends arrives there and reads
back on its page and through its REST API. Each test runs the `mailbox` line of
deploy/Procfile.dev as a real process, on free ports and with its own NEXAM_VAR_DIR."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import requests
from notifier_testkit import CODE_EXAMPLE, MAIL_FROM, Notifier, clock_at_now, free_port, invitation
from notifier_testkit import notifier_settings as settings_for

from contracts.testing.bus import wait_until
from notifier.config import SmtpSettings
from notifier.delivery import deliver_due
from notifier.domain import Links, plan_email
from notifier.mail import Sender, build_message
from notifier.rendering import Brand, EmailRenderer
from notifier.sender import OutgoingMail, SmtpSender

ROOT = Path(__file__).resolve().parents[4]
#: requirements-dev.txt installs maildump next to the interpreter; `make run` puts it on PATH
BIN = Path(sys.executable).parent
PLAIN_MESSAGE = (
    b"From: identity@nexam.test\r\n"
    b"To: bob@example.test\r\n"
    b"Subject: Your sign-in code\r\n"
    b"\r\n"
    b"Your sign-in code is 424242.\r\n"
)


@dataclass
class Maildump:
    smtp_port: int
    web_port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10)

    def messages(self) -> list[dict[str, Any]]:
        response = self.get("/messages/")
        assert response.status_code == 200, response.text
        listed = response.json()["messages"]
        assert isinstance(listed, list)
        return listed

    def wait_for_messages(self, count: int) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.messages()) >= count, 20, f"{count} message(s) in maildump")
        return self.messages()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def procfile_command(smtp_port: int, web_port: int) -> str:
    """The `mailbox` line of deploy/Procfile.dev, on other ports."""
    lines = (ROOT / "deploy" / "Procfile.dev").read_text(encoding="utf-8").splitlines()
    (command,) = [line.partition(":")[2] for line in lines if line.startswith("mailbox:")]
    for flag, port, instead in (("--smtp-port", 1025, smtp_port), ("--http-port", 8025, web_port)):
        assert f"{flag} {port} " in command, f"the mailbox no longer runs with {flag} {port}"
        command = command.replace(f"{flag} {port} ", f"{flag} {instead} ")
    return command.strip()


def mailbox_process(var: Path, smtp_port: int, web_port: int) -> dict[str, Any]:
    """How honcho runs the line: through the shell, the virtualenv first on PATH."""
    return {
        "args": ["sh", "-c", procfile_command(smtp_port, web_port)],
        "env": {
            **os.environ,
            "NEXAM_VAR_DIR": str(var),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        },
    }


@contextmanager
def running_maildump(var: Path, log: Path) -> Iterator[Maildump]:
    smtp_port, web_port = free_port(), free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            **mailbox_process(var, smtp_port, web_port), stdout=output, stderr=subprocess.STDOUT
        )
    mailbox = Maildump(smtp_port, web_port, process, log)
    try:

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"maildump exited early:\n{mailbox.output()}")
            try:
                return mailbox.get("/messages/").status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(answers, 30, "maildump's REST API")
        yield mailbox
    finally:
        stop(process, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes], stop_signal: signal.Signals) -> int:
    if process.poll() is None:
        process.send_signal(stop_signal)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def nothing_listens_on(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Maildump]:
    with running_maildump(tmp_path / "var", tmp_path / "maildump.log") as running:
        yield running


# -- what a developer reads ----------------------------------------------------------------------


def test_an_email_the_platform_sends_shows_up_in_the_dev_mailbox(
    tmp_path: Path, mailbox: Maildump
) -> None:
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path}/notifier.db", mailbox.smtp_port)
    notifier = Notifier(settings, clock_at_now())
    try:
        notifier.handle(invitation(language="fr", email="amelie@example.org", first_name="Amélie"))
        sender = notifier.smtp_sender()
        report = deliver_due(notifier.delivery(sender))
        sender.close()
    finally:
        notifier.close()
    assert report.delivered == 1

    (summary,) = mailbox.wait_for_messages(1)
    assert summary["subject"] == "Invitation à Nexam"
    assert summary["recipients"]["to"] == ["amelie@example.org"]
    assert summary["sender"] == "no-reply@nexam.test"

    detail = mailbox.get(f"/messages/{summary['id']}.json").json()
    assert set(detail["formats"]) == {"source", "plain", "html"}
    plain = mailbox.get(detail["formats"]["plain"])
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Bonjour Amélie," in plain.text and CODE_EXAMPLE in plain.text
    html = mailbox.get(detail["formats"]["html"])
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert CODE_EXAMPLE in html.text

    message = message_from_bytes(mailbox.get(detail["href"]).content, policy=policy.default)
    assert message["From"] == MAIL_FROM
    assert message["To"] == "Amélie Lovelace <amelie@example.org>"

    page = mailbox.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>MailDump</title>" in page.text


def test_the_mailbox_keeps_its_emails_across_a_restart_until_cleared(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with running_maildump(var, tmp_path / "first.log") as mailbox:
        with smtplib.SMTP("127.0.0.1", mailbox.smtp_port, timeout=10) as smtp:
            smtp.sendmail("identity@nexam.test", ["bob@example.test"], PLAIN_MESSAGE)
        (before,) = mailbox.wait_for_messages(1)
    assert (var / "maildump.sqlite").is_file()  # under var/, which git ignores

    with running_maildump(var, tmp_path / "second.log") as mailbox:
        (after,) = mailbox.messages()
        assert after == before
        assert after["subject"] == "Your sign-in code"
        assert after["recipients"]["to"] == ["bob@example.test"]
        plain = mailbox.get(f"/messages/{after['id']}.plain").text
        assert plain.strip() == "Your sign-in code is 424242."

        cleared = requests.delete(f"{mailbox.url}/messages/", timeout=10)
        assert cleared.status_code == 204
        assert mailbox.messages() == []


def test_an_unknown_message_is_a_404(mailbox: Maildump) -> None:
    for path in ("/messages/1.json", "/messages/1.plain", "/messages/1.eml"):
        assert mailbox.get(path).status_code == 404


def test_the_page_cannot_be_used_to_stop_the_mailbox(mailbox: Maildump) -> None:
    # --no-quit: without it, maildump stops when anything sends it DELETE /
    assert requests.delete(f"{mailbox.url}/", timeout=10).status_code == 403
    assert mailbox.process.poll() is None


@pytest.mark.xfail(
    raises=smtplib.SMTPNotSupportedError,
    strict=True,
    reason="maildump offers no SMTPUTF8: maildump/smtp.py builds smtpd.SMTPServer without "
    "enable_SMTPUTF8 and has no option for it (1.0 and 1.1.1)",
)
def test_an_email_to_an_international_address_shows_up(mailbox: Maildump) -> None:
    plan = plan_email(invitation(email="josé@exemple.fr", first_name="José"), Links("https://x"))
    raw = build_message(
        plan,
        EmailRenderer(Brand("Nexam", "help@nexam.test", "https://x")).render(plan),
        sender=Sender(MAIL_FROM, "nexam.test"),
        message_id=f"<{uuid.uuid4()}@nexam.test>",
        date=datetime.now(UTC),
    )
    relay = SmtpSettings("127.0.0.1", mailbox.smtp_port, None, None, False, MAIL_FROM, 10.0)
    sender = SmtpSender(relay)
    try:
        sender.send(OutgoingMail("no-reply@nexam.test", "josé@exemple.fr", raw))
    finally:
        sender.close()
    (summary,) = mailbox.wait_for_messages(1)
    assert summary["recipients"]["to"] == ["josé@exemple.fr"]


# -- as `make run` starts and stops it -----------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_stops_it_and_frees_its_ports(tmp_path: Path, stop_signal: signal.Signals) -> None:
    with running_maildump(tmp_path / "var", tmp_path / "maildump.log") as mailbox:
        assert stop(mailbox.process, stop_signal) == 0
    assert "Traceback" not in mailbox.output()
    assert nothing_listens_on(mailbox.smtp_port) and nothing_listens_on(mailbox.web_port)


def test_a_taken_port_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    smtp_port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        web_port = squatter.getsockname()[1]
        started = subprocess.run(
            **mailbox_process(tmp_path / "var", smtp_port, web_port),
            capture_output=True,
            timeout=60,
        )
    assert started.returncode != 0
    assert b"Address already in use" in started.stderr
    assert nothing_listens_on(smtp_port)
