"""What the notifier's tests share: a real SMTP server that keeps what it receives (aiosmtpd on
an ephemeral port), events built from the contracts' golden examples, a clock the test moves,
a hand-written fake sender, and a migrated database with the notifier's delivery wired up.

Imported by its path-unique name (``notifier_testkit``), from this folder (see ``conftest.py``)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from contracts.bus import HandleMany
from contracts.bus.outbox import Outbox
from contracts.events.envelope import Event
from contracts.runtime.database import make_engine, make_sessions
from contracts.runtime.migrations import upgrade
from contracts.testing.clock import TestClock
from contracts.testing.events import example_event, with_data
from notifier import store
from notifier.config import Settings
from notifier.delivery import Delivery
from notifier.domain import RetryPolicy
from notifier.handlers import handlers
from notifier.sealed_mime import mime_sealer
from notifier.sender import MailSender, OutgoingMail, SmtpSender

MAIL_FROM = "Nexam <no-reply@nexam.test>"
PUBLIC_URL = "https://exams.example.org"
SUPPORT = "help@nexam.test"
CODE_EXAMPLE = "7KQ2-M9XD-4PRT-WZ3H"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- a real SMTP server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


class _Catcher:
    """aiosmtpd handler: refuses the addresses in ``reject`` with 550, answers 451 to those
    in ``defer``, keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.reject: set[str] = set()
        self.defer: set[str] = set()
        self.sessions = 0
        self.lock = threading.Lock()

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook names)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.defer:
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(raw))
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1:``port``, started and stopped by the test; what it
    received survives a restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.catcher = _Catcher()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        with self.catcher.lock:
            return list(self.catcher.received)

    def reject(self, address: str) -> None:
        self.catcher.reject.add(address.lower())

    def defer(self, address: str) -> None:
        self.catcher.defer.add(address.lower())

    def accept(self, address: str) -> None:
        self.catcher.defer.discard(address.lower())
        self.catcher.reject.discard(address.lower())

    @property
    def sessions(self) -> int:
        return self.catcher.sessions


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[SmtpServer]:
    server = SmtpServer(port).start()
    try:
        yield server
    finally:
        server.stop()


# -- events -------------------------------------------------------------------------------------


def event(event_type: str, **data: Any) -> Event:
    """The golden example of ``event_type`` with a fresh id and ``data`` changed, validated
    and loaded as the consumer would hand it over."""
    return with_data(example_event(event_type), **data)


def invitation(
    *,
    email: str = "ada.lovelace@example.org",
    language: str = "en",
    code: str | None = CODE_EXAMPLE,
    evaluation: str = "Mathematics 101 final exam",
    **data: Any,
) -> Event:
    exists = code is None
    return event(
        "InvitationIssued",
        email=email,
        language=language,
        code=code,
        account_exists=exists,
        expires_at=None if exists else datetime(2026, 12, 21, 9, 15, tzinfo=UTC),
        evaluation={"ref": "MATH101-FINAL-2026", "name": evaluation},
        invitation_id=uuid.uuid4(),
        **data,
    )


# -- time and fakes -----------------------------------------------------------------------------


def clock_at_now() -> TestClock:
    """A clock the test moves, set to the real time: the SMTP server and the mail headers
    live in real time."""
    return TestClock(datetime.now(UTC))


class FakeSender:
    """Records what it is asked to send; ``fail_with`` maps a recipient to the exception
    its next sends raise (a callable, so each attempt gets a fresh one)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail_with: dict[str, Callable[[], Exception]] = {}
        self.lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> None:
        failure = self.fail_with.get(mail.recipient)
        if failure is not None:
            raise failure()
        with self.lock:
            self.sent.append(mail)

    def close(self) -> None:
        pass

    @property
    def recipients(self) -> list[str]:
        return [mail.recipient for mail in self.sent]


# -- a notifier on a real database --------------------------------------------------------------


def notifier_environ(
    tmp_path: Path, database_url: str, smtp_port: int, **env: str
) -> dict[str, str]:
    return {
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "NOTIFIER_DATABASE_URL": database_url,
        "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        "PUBLIC_URL": PUBLIC_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TIMEOUT_SECONDS": "5",
        "MAIL_FROM": MAIL_FROM,
        "SUPPORT_EMAIL": SUPPORT,
        **env,
    }


def notifier_settings(tmp_path: Path, database_url: str, smtp_port: int, **env: str) -> Settings:
    return Settings.from_env(notifier_environ(tmp_path, database_url, smtp_port, **env))


class Notifier:
    """The notifier's database (migrated), its handlers and a delivery round, for one test."""

    def __init__(self, settings: Settings, clock: TestClock) -> None:
        self.settings = settings
        self.clock = clock
        upgrade("notifier", settings.service.database_url)
        self.engine: Engine = make_engine(settings.service.database_url)
        self.sessions: sessionmaker[DbSession] = make_sessions(self.engine)
        self.handlers = handlers(settings, clock=clock)
        self.outbox = Outbox(store.metadata, "notifier")

    def handle(self, *events: Event) -> None:
        """Each event in its own transaction, as the consumer runs a handler."""
        for one in events:
            with self.sessions() as session, session.begin():
                handler = self.handlers[one.type]
                assert isinstance(handler, HandleMany)
                handler.handle(session, [one])

    def delivery(self, *senders: MailSender, **overrides: Any) -> Delivery:
        values: dict[str, Any] = {
            "sessions": self.sessions,
            "senders": senders,
            "outbox": self.outbox,
            "envelope_from": self.settings.smtp.envelope_sender,
            "clock": self.clock,
            "sealer": mime_sealer(self.settings.service),
            "retry": RetryPolicy(),
            "batch_size": 50,
        }
        return Delivery(**(values | overrides))

    def smtp_sender(self) -> SmtpSender:
        return SmtpSender(self.settings.smtp)

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            result = db.execute(select(store.outgoing_email).order_by(store.outgoing_email.c.id))
            return [dict(row._mapping) for row in result]

    def row_for(self, source: Event) -> dict[str, Any]:
        (row,) = [r for r in self.rows() if r["source_event_id"] == source.id]
        return row

    def published(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Envelopes waiting in the outbox, oldest first."""
        with self.engine.connect() as db:
            bodies = db.scalars(select(store.outbox.c.body).order_by(store.outbox.c.position))
            return [b for b in bodies if event_type is None or b["type"] == event_type]

    def close(self) -> None:
        self.engine.dispose()
