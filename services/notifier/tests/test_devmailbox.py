"""The development mailbox: real SMTP and HTTP ports where it matters, Flask's client elsewhere."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from notifier.devmailbox.__main__ import main
from notifier.devmailbox.config import Settings
from notifier.devmailbox.message import parse_message
from notifier.devmailbox.server import DevMailbox
from notifier.devmailbox.store import MessageStore
from notifier.devmailbox.web import create_app

SRC = Path(__file__).resolve().parents[1] / "src"
TEXT_BODY = "Bonjour Amélie,\n\nVotre code d’invitation : ABC-123\n\nÀ bientôt sur Nexam.\n"
HTML_BODY = "<p>Bonjour Amélie,</p><p>Votre code d’invitation : <strong>ABC-123</strong></p>"
PLAIN_MESSAGE = (
    b"From: identity@nexam.test\r\n"
    b"To: bob@example.test\r\n"
    b"Subject: Your sign-in code\r\n"
    b"\r\n"
    b"Your sign-in code is 424242.\r\n"
)


# -- helpers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_nothing_listens_on(port: int) -> None:
    with socket.socket() as probe:
        # SO_REUSEADDR: connections left in TIME_WAIT are fine, a listening socket is not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {condition}")
        time.sleep(0.02)


def invitation() -> EmailMessage:
    """Multipart text + HTML, French subject and sender name, QP text part, base64 HTML part."""
    message = EmailMessage()
    message["From"] = "Équipe Nexam <no-reply@nexam.test>"
    message["To"] = "Amélie Dupont <amelie@example.test>"
    message["Subject"] = "Invitation à Nexam"
    message.set_content(TEXT_BODY, cte="quoted-printable")
    message.add_alternative(HTML_BODY, subtype="html", cte="base64")
    return message


def send(settings: Settings, message: EmailMessage | bytes, *, to: list[str] | None = None) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if isinstance(message, EmailMessage):
            smtp.send_message(message, to_addrs=to)
        else:
            smtp.sendmail("identity@nexam.test", to or ["bob@example.test"], message)


def live_settings(directory: Path) -> Settings:
    return Settings(smtp_port=free_port(), web_port=free_port(), directory=directory)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return live_settings(tmp_path / "mailbox")


@pytest.fixture
def mailbox(settings: Settings) -> Iterator[DevMailbox]:
    with DevMailbox(settings, MessageStore(settings.directory)) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def store(tmp_path: Path) -> MessageStore:
    return MessageStore(tmp_path / "mailbox")


@pytest.fixture
def client(store: MessageStore) -> FlaskClient:
    return create_app(store).test_client()


def save(store: MessageStore, message: EmailMessage | bytes) -> str:
    raw = message.as_bytes() if isinstance(message, EmailMessage) else message
    return store.save(raw, mail_from="no-reply@nexam.test", rcpt_tos=["amelie@example.test"])


# -- through the real SMTP and HTTP ports --------------------------------------------------------


def test_a_message_sent_over_smtp_is_shown_over_http(
    mailbox: DevMailbox, settings: Settings, http: requests.Session
) -> None:
    send(settings, invitation(), to=["amelie@example.test", "hidden@example.test"])
    send(settings, PLAIN_MESSAGE)
    base = mailbox.web_url

    listing = http.get(f"{base}/api/messages", timeout=10)
    assert listing.status_code == 200
    summaries = listing.json()
    assert [m["subject"] for m in summaries] == ["Your sign-in code", "Invitation à Nexam"]
    assert summaries[0]["date"] > summaries[1]["date"]  # newest first
    french = summaries[1]
    assert french["from"] == "Équipe Nexam <no-reply@nexam.test>"
    assert french["to"] == ["Amélie Dupont <amelie@example.test>"]
    assert french["size"] > 0
    assert french["envelope"] == {
        "from": "no-reply@nexam.test",
        "to": ["amelie@example.test", "hidden@example.test"],
    }

    detail = http.get(f"{base}/api/messages/{french['id']}", timeout=10).json()
    assert detail["subject"] == "Invitation à Nexam"
    assert detail["text"] == TEXT_BODY
    assert detail["html"].strip() == HTML_BODY
    assert {"name": "Subject", "value": "Invitation à Nexam"} in detail["headers"]

    html_part = http.get(f"{base}/messages/{french['id']}/html", timeout=10)
    assert html_part.status_code == 200
    assert html_part.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = html_part.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert html_part.headers["X-Content-Type-Options"] == "nosniff"
    assert html_part.text.strip() == HTML_BODY

    page = http.get(f"{base}/messages/{french['id']}", timeout=10)
    assert page.status_code == 200
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert '<html lang="en">' in page.text
    assert "<h1>Invitation à Nexam</h1>" in page.text
    assert "Votre code d’invitation : ABC-123" in page.text
    assert f'<iframe sandbox="" src="/messages/{french["id"]}/html"' in page.text
    assert "<script" not in page.text

    index = http.get(f"{base}/", timeout=10)
    assert index.text.index("Your sign-in code") < index.text.index("Invitation à Nexam")
    assert 'name="viewport"' in index.text
    assert '<button type="submit" class="danger">Delete all</button>' in index.text
    rebound = http.get(f"{base}/", headers={"Host": "rebound.evil.example"}, timeout=10)
    assert rebound.status_code == 400  # bound to loopback: other Host names are refused
    stylesheet = http.get(f"{base}/static/devmailbox.css", timeout=10)
    assert stylesheet.status_code == 200 and "max-width" in stylesheet.text

    plain_raw = http.get(f"{base}/api/messages/{summaries[0]['id']}/raw", timeout=10)
    assert plain_raw.status_code == 200
    assert plain_raw.headers["Content-Type"] == "message/rfc822"
    assert plain_raw.headers["Content-Disposition"].startswith("attachment;")
    assert plain_raw.content == PLAIN_MESSAGE
    french_raw = http.get(f"{base}/api/messages/{french['id']}/raw", timeout=10).content
    assert b"Subject: Invitation =?utf-8?q?=C3=A0?= Nexam" in french_raw
    assert parse_message(french_raw).text == TEXT_BODY


def test_delete_all_empties_the_mailbox(
    mailbox: DevMailbox, settings: Settings, http: requests.Session
) -> None:
    send(settings, invitation())
    send(settings, PLAIN_MESSAGE)
    base = mailbox.web_url
    assert len(http.get(f"{base}/api/messages", timeout=10).json()) == 2

    response = http.post(f"{base}/delete-all", allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"

    assert http.get(f"{base}/api/messages", timeout=10).json() == []
    assert "No messages yet." in http.get(f"{base}/", timeout=10).text
    assert list(settings.directory.iterdir()) == []

    send(settings, PLAIN_MESSAGE)
    cleared = http.delete(f"{base}/api/messages", timeout=10)
    assert cleared.json() == {"deleted": 1}
    assert http.get(f"{base}/api/messages", timeout=10).json() == []


def test_messages_survive_a_restart(tmp_path: Path, http: requests.Session) -> None:
    directory = tmp_path / "mailbox"
    first = live_settings(directory)
    with DevMailbox(first, MessageStore(directory)) as mailbox:
        send(first, invitation())
        before = http.get(f"{mailbox.web_url}/api/messages", timeout=10).json()

    second = live_settings(directory)
    with DevMailbox(second, MessageStore(directory)) as mailbox:
        after = http.get(f"{mailbox.web_url}/api/messages", timeout=10).json()
        send(second, PLAIN_MESSAGE)
        latest = http.get(f"{mailbox.web_url}/api/messages", timeout=10).json()

    assert after == before
    assert after[0]["subject"] == "Invitation à Nexam"
    assert [m["subject"] for m in latest] == ["Your sign-in code", "Invitation à Nexam"]


def test_a_taken_port_fails_the_start_and_leaves_nothing_running(tmp_path: Path) -> None:
    settings = live_settings(tmp_path / "mailbox")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.web_port))
        squatter.listen()
        with pytest.raises(OSError):
            DevMailbox(settings, MessageStore(settings.directory)).start()
    assert_nothing_listens_on(settings.smtp_port)  # the SMTP server started, then was stopped


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_command_prints_its_addresses_and_stops_on_a_signal(
    tmp_path: Path, http: requests.Session, stop_signal: signal.Signals
) -> None:
    settings = live_settings(tmp_path / "mailbox")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "DEVMAILBOX_SMTP_PORT": str(settings.smtp_port),
        "DEVMAILBOX_WEB_PORT": str(settings.web_port),
        "DEVMAILBOX_DIR": str(settings.directory),
    }
    web_url = f"http://127.0.0.1:{settings.web_port}"
    command = [sys.executable, "-m", "notifier.devmailbox"]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:

            def answers() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"the mailbox exited early: {process.communicate()}")
                try:
                    return http.get(f"{web_url}/api/messages", timeout=2).status_code == 200
                except requests.ConnectionError:
                    return False

            wait_until(answers)
            send(settings, PLAIN_MESSAGE)
            assert len(list(settings.directory.glob("*.eml"))) == 1
            process.send_signal(stop_signal)
            stdout, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, stderr
    assert f"SMTP on 127.0.0.1:{settings.smtp_port}" in stdout
    assert f"web on {web_url}" in stdout
    assert "Traceback" not in stderr


def test_a_signal_delivered_to_another_thread_still_stops_it(
    tmp_path: Path, http: requests.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = live_settings(tmp_path / "mailbox")
    web_url = f"http://127.0.0.1:{settings.web_port}"
    handler_before = signal.getsignal(signal.SIGTERM)
    failures: list[BaseException] = []

    def answers() -> bool:
        try:
            return http.get(f"{web_url}/api/messages", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def signal_this_thread() -> None:
        try:
            wait_until(answers)
            send(settings, PLAIN_MESSAGE)
        except BaseException as error:  # main() would then not be waiting: send nothing
            failures.append(error)
            return
        # The kernel may pick any thread for a process-wide signal; force the awkward case.
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    helper = threading.Thread(target=signal_this_thread)
    helper.start()
    code = main(
        {
            "DEVMAILBOX_SMTP_PORT": str(settings.smtp_port),
            "DEVMAILBOX_WEB_PORT": str(settings.web_port),
            "DEVMAILBOX_DIR": str(settings.directory),
        }
    )
    helper.join()

    assert failures == []
    assert code == 0
    assert "devmailbox: SIGTERM received, stopping" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) == handler_before
    assert len(list(settings.directory.glob("*.eml"))) == 1
    assert_nothing_listens_on(settings.smtp_port)
    assert_nothing_listens_on(settings.web_port)


def test_the_command_fails_clearly_on_bad_settings_or_a_taken_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main({"DEVMAILBOX_SMTP_PORT": "smtp"}) == 2
    assert "DEVMAILBOX_SMTP_PORT must be a port number" in capsys.readouterr().err

    settings = live_settings(tmp_path / "mailbox")
    env = {
        "DEVMAILBOX_SMTP_PORT": str(settings.smtp_port),
        "DEVMAILBOX_WEB_PORT": str(settings.web_port),
        "DEVMAILBOX_DIR": str(settings.directory),
    }
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.web_port))
        squatter.listen()
        assert main(env) == 1
    assert "devmailbox: cannot start:" in capsys.readouterr().err


# -- the web app through Flask's test client -----------------------------------------------------


def test_unknown_ids_are_json_404s(client: FlaskClient) -> None:
    for path in ("/api/messages/01234567890123456789-0123abcd", "/api/messages/nope/raw"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json is not None
        assert response.json["error"] == "not_found"
        assert isinstance(response.json["message"], str)
    page = client.get("/messages/01234567890123456789-0123abcd")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


@pytest.mark.parametrize(
    "message_id",
    ["..", "../secret", "..%2Fsecret", "%2e%2e%2fsecret", "..%5Csecret", "secret", "%2Fetc"],
)
@pytest.mark.parametrize(
    "template",
    ["/api/messages/{}", "/api/messages/{}/raw", "/messages/{}", "/messages/{}/html"],
)
def test_ids_cannot_reach_outside_the_folder(
    store: MessageStore, client: FlaskClient, message_id: str, template: str
) -> None:
    save(store, PLAIN_MESSAGE)
    store.directory.parent.joinpath("secret.eml").write_bytes(b"Subject: secret\r\n\r\nTOP SECRET")
    store.directory.parent.joinpath("secret.json").write_text("{}")

    # "//" redirects to the merged path first; wherever it lands, it must be a 404
    response = client.get(template.format(message_id), follow_redirects=True)

    assert response.status_code == 404
    assert b"SECRET" not in response.data
    if template.startswith("/api/"):
        assert response.json is not None and response.json["error"] == "not_found"


def test_the_store_refuses_anything_but_its_own_ids(store: MessageStore) -> None:
    message_id = save(store, PLAIN_MESSAGE)
    assert store.get(message_id) is not None
    for bad in ("../" + message_id, message_id + "/", "/" + message_id, "", message_id.upper()):
        assert store.get(bad) is None


def test_everything_from_the_message_is_escaped(store: MessageStore, client: FlaskClient) -> None:
    hostile = EmailMessage()
    hostile["From"] = '"<img src=x onerror=alert(1)>" <evil@example.test>'
    hostile["To"] = "amelie@example.test"
    hostile["Subject"] = "<script>alert('subject')</script>"
    hostile.set_content("</pre><script>alert('text')</script>")
    message_id = save(store, hostile)

    for path in ("/", f"/messages/{message_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;" in page
    detail = client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#39;text&#39;)&lt;/script&gt;" in detail


def test_a_text_only_message_has_no_html_part(store: MessageStore, client: FlaskClient) -> None:
    message_id = save(store, PLAIN_MESSAGE)
    detail = client.get(f"/api/messages/{message_id}").json
    assert detail is not None
    assert detail["text"] == "Your sign-in code is 424242.\n"
    assert detail["html"] is None
    assert client.get(f"/messages/{message_id}/html").status_code == 404
    page = client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "This message has no HTML part." in page
    assert "<iframe" not in page


def test_changes_asked_by_another_site_are_refused(
    store: MessageStore, client: FlaskClient
) -> None:
    save(store, PLAIN_MESSAGE)
    refused: list[dict[str, Any]] = [
        {"headers": {"Origin": "http://evil.example"}},
        {"headers": {"Sec-Fetch-Site": "cross-site"}},
        {"headers": {"Origin": "null"}},
    ]
    for request in refused:
        assert client.post("/delete-all", **request).status_code == 403
        assert client.delete("/api/messages", **request).status_code == 403
    assert len(store.ids()) == 1

    same_site = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/delete-all", headers=same_site).status_code == 303
    assert store.ids() == []


def test_only_trusted_host_names_are_served(store: MessageStore) -> None:
    client = create_app(store, trusted_hosts=["localhost", "127.0.0.1"]).test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8025"}).status_code == 200
    assert client.get("/", headers={"Host": "rebound.evil.example"}).status_code == 400
    api = client.get("/api/messages", headers={"Host": "rebound.evil.example"})
    assert api.status_code == 400
    assert api.json is not None and api.json["error"] == "bad_request"


def test_wrong_methods_answer_405_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/messages")
    assert response.status_code == 405
    assert response.json is not None and response.json["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


# -- reading messages ----------------------------------------------------------------------------


def test_encoded_headers_and_bodies_are_decoded() -> None:
    raw = (
        b"From: =?ISO-8859-1?Q?=C9quipe_Nexam?= <no-reply@nexam.test>\r\n"
        b"To: =?utf-8?b?QW3DqWxpZQ==?= <amelie@example.test>, bob@example.test\r\n"
        b"Subject: =?utf-8?q?Invitation_=C3=A0?=\r\n"
        b" =?utf-8?b?IE5leGFt?=\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n'
        b"\r\n"
        b"--b\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"R=E9ponse attendue avant le 3 f=E9vrier.\r\n"
        b"--b\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"PHA+w4AgYmllbnTDtHQ8L3A+\r\n"
        b"--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Invitation à Nexam"
    assert parsed.sender == "Équipe Nexam <no-reply@nexam.test>"
    assert parsed.recipients == ("Amélie <amelie@example.test>", "bob@example.test")
    assert parsed.text == "Réponse attendue avant le 3 février."
    assert parsed.html == "<p>À bientôt</p>"


def test_broken_messages_are_shown_as_well_as_possible() -> None:
    unknown_charset = (
        b"Subject: =?x-unknown?q?caf=C3=A9?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"caf\xc3\xa9\r\n"
    )
    parsed = parse_message(unknown_charset)
    assert parsed.text == "café\n"
    assert "caf" in parsed.subject

    for garbage in (b"", b"\x00\xff\xfe not a message", b"Content-Type: multipart/mixed\r\n\r\nx"):
        parse_message(garbage)  # no exception


def test_an_html_only_message_has_no_text_part() -> None:
    message = EmailMessage()
    message["Subject"] = "HTML only"
    message.set_content(HTML_BODY, subtype="html")
    parsed = parse_message(message.as_bytes())
    assert parsed.text is None
    assert parsed.html is not None and parsed.html.strip() == HTML_BODY


# -- the folder ----------------------------------------------------------------------------------


def test_concurrent_saves_all_land_and_leave_no_temporary_file(store: MessageStore) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def deliver(number: int) -> None:
        message_id = store.save(f"Subject: {number}\r\n\r\n".encode(), mail_from="", rcpt_tos=[])
        with lock:
            ids.append(message_id)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 40
    assert sorted(store.ids()) == sorted(ids)
    assert {path.suffix for path in store.directory.iterdir()} == {".eml", ".json"}


def test_ids_sort_newest_first_even_when_the_clock_stands_still(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "mailbox", clock=lambda: 1_700_000_000_000_000_000)
    first = store.save(b"Subject: 1\r\n\r\n", mail_from="a@x.test", rcpt_tos=["b@x.test"])
    second = store.save(b"Subject: 2\r\n\r\n", mail_from="a@x.test", rcpt_tos=["b@x.test"])
    assert store.ids() == [second, first]


def test_a_lost_envelope_does_not_hide_the_message(store: MessageStore) -> None:
    message_id = save(store, PLAIN_MESSAGE)
    (store.directory / f"{message_id}.json").write_text("not json")
    stored = store.get(message_id)
    assert stored is not None
    assert stored.raw == PLAIN_MESSAGE
    assert stored.envelope.mail_from == ""
    assert stored.envelope.received_at.year >= 2024


def test_an_empty_or_missing_folder_lists_nothing(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "not-yet")
    assert store.ids() == []
    assert store.clear() == 0
    assert create_app(store).test_client().get("/api/messages").json == []


# -- settings ------------------------------------------------------------------------------------


def test_settings_come_from_the_environment() -> None:
    assert Settings.from_env({}) == Settings(
        smtp_host="127.0.0.1",
        smtp_port=1025,
        web_host="127.0.0.1",
        web_port=8025,
        directory=Path("var/mailbox"),
    )
    custom = Settings.from_env(
        {
            "DEVMAILBOX_SMTP_HOST": "0.0.0.0",
            "DEVMAILBOX_SMTP_PORT": "2525",
            "DEVMAILBOX_WEB_PORT": "9000",
            "DEVMAILBOX_DIR": "/tmp/mail",
        }
    )
    assert (custom.smtp_host, custom.smtp_port, custom.web_port) == ("0.0.0.0", 2525, 9000)
    assert custom.directory == Path("/tmp/mail")
    for bad in ("smtp", "0", "70000"):
        with pytest.raises(ValueError, match="DEVMAILBOX_WEB_PORT"):
            Settings.from_env({"DEVMAILBOX_WEB_PORT": bad})
