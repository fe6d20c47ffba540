"""A counting SMTP sink for benchmarks, in its own process: accepts every message, keeps
nothing, and answers GET / on its HTTP port with the number received so far.
Usage: python smtp_sink.py SMTP_PORT HTTP_PORT"""

from __future__ import annotations

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


def main() -> int:
    smtp_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    class Count(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = str(counter.count).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", http_port), Count)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    http.shutdown()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
