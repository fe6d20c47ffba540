"""The platform in one test process: the gateway and the chosen services served on
ephemeral ports, their workers in threads, a real SMTP server that keeps what it receives,
a private namespace on the bus, and a database per service."""

from __future__ import annotations

import email
import email.policy
import importlib
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from werkzeug.serving import BaseWSGIServer, make_server

from contracts.bus import BusAddress, Topology
from contracts.runtime.migrations import upgrade
from contracts.testing.bus import wait_until

MAIL_FROM = "Nexam <no-reply@nexam.test>"
#: an invitation code as the emails show it
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
PUBLIC_URL = "http://nexam.test"


class MailSink:
    """An SMTP server for tests: keeps every message; answers 550 for chosen recipients;
    can be stopped and started again on the same port."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[EmailMessage] = []
        self.refused: set[str] = set()
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self.port = port

    # aiosmtpd handler hooks
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def start(self) -> MailSink:
        if not self.port:
            self.port = _free_port()
        controller = Controller(self, hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            found = list(self.received)
        if to is None:
            return found
        return [m for m in found if to.lower() in str(m["To"]).lower()]

    def wait_for(
        self, count: int, to: str | None = None, timeout: float = 30
    ) -> list[EmailMessage]:
        wait_until(lambda: len(self.messages(to)) >= count, timeout, f"{count} email(s) to {to}")
        return self.messages(to)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no text part"
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the email has no HTML part"
    return str(part.get_content())  # type: ignore[attr-defined]


class _LateApp:
    """A WSGI app bound to a port before the real app exists (the gateway must know the
    services' addresses and the services the gateway's)."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class Platform:
    tmp_path: Path
    bus_url: str
    database_url: Callable[[str], str]
    smtp_port: int
    services: tuple[str, ...] = ("invitations", "notifier")
    env: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    apps: dict[str, Any] = field(default_factory=dict)
    _servers: list[BaseWSGIServer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]

    @property
    def public_url(self) -> str:
        return self.env["PUBLIC_URL"]

    def start(self) -> Platform:
        namespace = f"t{uuid.uuid4().hex[:10]}"
        late = {name: _LateApp() for name in ("gateway", *self.services)}
        for name, app in late.items():
            server = make_server("127.0.0.1", 0, app, threaded=True)
            self._servers.append(server)
            self.urls[name] = f"http://127.0.0.1:{server.server_port}"
        self.env = {
            **self.env,  # the test's own settings, under those the platform needs
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(self.tmp_path / "var"),
            "BUS_URL": self.bus_url,
            "BUS_NAMESPACE": namespace,
            # "{gateway}" in a test's own PUBLIC_URL is the gateway's address: where a partner
            # must send the browser back to
            "PUBLIC_URL": self.env.get("PUBLIC_URL", PUBLIC_URL).format(gateway=self.gateway),
            "GATEWAY_JWKS_URL": f"{self.gateway}/.well-known/jwks.json",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "MAIL_FROM": MAIL_FROM,
            **{f"{s.upper()}_URL": self.urls[s] for s in self.services},
            **{f"{s.upper()}_WORKER_METRICS_PORT": "0" for s in self.services},
            **{f"{s.upper()}_DATABASE_URL": self.database_url(s) for s in self.services},
        }
        for service in self.services:
            upgrade(service, self.env[f"{service.upper()}_DATABASE_URL"])
            late[service].app = self.apps[service] = _create_app(service, self.env)
        from gateway import create_app as gateway_app
        from gateway.config import GatewaySettings

        late["gateway"].app = self.apps["gateway"] = gateway_app(GatewaySettings.from_env(self.env))
        for server in self._servers:
            self._spawn(server.serve_forever)
        for service in self.services:
            worker = importlib.import_module(f"{service}.worker")
            self._spawn(lambda w=worker: w.main(self.env, self._stop))
        return self

    def _spawn(self, target: Callable[[], object]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        if "gateway" in self.apps:  # its listener to the bus, before the exchanges go
            self.apps["gateway"].extensions["nexam.gateway"]["session_events"].stop()
        for server in self._servers:
            server.shutdown()
        for thread in self._threads:
            thread.join(timeout=20)
        bus = BusAddress(self.bus_url, self.tmp_path)
        if not bus.is_filesystem:
            topology = Topology.for_namespace(self.env["BUS_NAMESPACE"])
            with bus.connect() as connection:
                channel = connection.default_channel
                for queue in topology.queues():
                    queue(channel).delete()
                topology.events_exchange(channel).delete()
                topology.dead_exchange(channel).delete()

    # acting as a coordinator, through the gateway
    def token(
        self,
        institution: uuid.UUID,
        roles: Iterable[str] = ("coordinator",),
        lifetime: timedelta = timedelta(minutes=15),
    ) -> str:
        minter = self.apps["gateway"].extensions["nexam.gateway"]["minter"]
        return str(
            minter.mint(
                subject=f"coordinator-{institution}",
                roles=list(roles),
                institution=str(institution),
                amr=["test"],
                lifetime=lifetime,
            )
        )

    def invite(self, token: str, email: str, language: str = "en") -> dict[str, object]:
        """A coordinator invites ``email`` to Mathematics 101 through the gateway."""
        response = self.api(
            "POST",
            "/api/v1/invitations",
            token,
            json={
                "email": email,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "evaluation": {"ref": "MATH101-FINAL-2026", "name": "Mathematics 101 final exam"},
                "language": language,
            },
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def api(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.gateway + path, headers=headers, timeout=30, **kwargs)


def _create_app(service: str, env: dict[str, str]) -> Any:
    """Every service's app from its own ``config.Settings``, read from ``env``."""
    settings = importlib.import_module(f"{service}.config").Settings.from_env(env)
    return importlib.import_module(service).create_app(settings)


@dataclass
class Running:
    platform: Platform
    mail: MailSink


def run_platform(
    tmp_path: Path,
    bus_url: str,
    database_url: Callable[[str], str],
    services: tuple[str, ...],
    env: dict[str, str] | None = None,
) -> Iterator[Running]:
    mail = MailSink().start()
    platform = Platform(tmp_path, bus_url, database_url, mail.port, services, dict(env or {}))
    platform.start()
    try:
        yield Running(platform, mail)
    finally:
        platform.stop()
        mail.stop()
