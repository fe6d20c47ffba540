"""Running the SMTP server and the web server together, each in its own thread."""

from __future__ import annotations

import ipaddress
import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from aiosmtpd.controller import Controller
from werkzeug.serving import BaseWSGIServer, make_server, select_address_family

from notifier.devmailbox.config import Settings
from notifier.devmailbox.smtp import create_controller
from notifier.devmailbox.store import MessageStore
from notifier.devmailbox.web import create_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class DevMailbox:
    """Both servers over one store; ``start()`` then ``stop()``, or use it as a context."""

    def __init__(self, settings: Settings, store: MessageStore) -> None:
        self.settings = settings
        self.store = store
        self._controller: Controller | None = None
        self._web: BaseWSGIServer | None = None
        self._web_thread: threading.Thread | None = None

    @property
    def smtp_address(self) -> str:
        return f"{_url_host(self.settings.smtp_host)}:{self.settings.smtp_port}"

    @property
    def web_url(self) -> str:
        port = self._web.port if self._web else self.settings.web_port
        return f"http://{_url_host(self.settings.web_host)}:{port}"

    def start(self) -> None:
        """Bind both ports; raise ``OSError`` (nothing left running) if one is taken."""
        controller = create_controller(self.store, self.settings.smtp_host, self.settings.smtp_port)
        try:
            controller.start()
        except BaseException:
            if controller.loop.is_running():
                controller.stop(no_assert=True)
            elif not controller.loop.is_closed():
                controller.loop.close()  # the bind failed: the loop thread has already ended
            raise
        self._controller = controller
        try:
            app = create_app(
                self.store,
                smtp_address=self.smtp_address,
                trusted_hosts=_trusted_hosts(self.settings.web_host),
            )
            self._web = _make_web_server(self.settings.web_host, self.settings.web_port, app)
        except BaseException:
            self.stop()
            raise
        self._web_thread = threading.Thread(
            target=self._web.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop to notice
            name="devmailbox-web",
            daemon=True,
        )
        self._web_thread.start()

    def stop(self) -> None:
        """Stop whatever is running; safe to call twice."""
        if self._web is not None:
            if self._web_thread is not None:
                self._web.shutdown()
                self._web_thread.join()
            self._web.server_close()
            self._web = None
            self._web_thread = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> DevMailbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _make_web_server(host: str, port: int, app: WSGIApplication) -> BaseWSGIServer:
    # Bind here: werkzeug's make_server() calls sys.exit(1) when the port is taken.
    family = select_address_family(host, port)
    with socket.create_server((host, port), family=family) as listening:
        return make_server(host, port, app, threaded=True, fd=listening.fileno())


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _trusted_hosts(web_host: str) -> list[str] | None:
    """When only this machine can connect, accept only its names in ``Host``.

    Other names (``0.0.0.0`` in a container, a LAN name) are left open: whoever binds
    there has chosen who may connect. Werkzeug cannot match IPv6 ``Host`` values.
    """
    if web_host == "localhost":
        return ["localhost", "127.0.0.1"]
    try:
        address = ipaddress.ip_address(web_host)
    except ValueError:
        return None
    if address.version == 4 and address.is_loopback:
        return list(dict.fromkeys(["localhost", "127.0.0.1", web_host]))
    return None
