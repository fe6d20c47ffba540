"""An SMTP sink for benchmarks, in its own process: accepts every message and answers GET /
on its HTTP port with the number received so far. With --keep it also keeps each message,
by recipient, for GET /mail?to=ADDRESS&from=K&wait=SECONDS: waits up to SECONDS until that
address has more than K messages, then answers JSON {"count": n, "texts": [...]} with the
text parts of messages K..n-1 (parsed only when asked, so receiving stays cheap).
Usage: python smtp_sink.py SMTP_PORT HTTP_PORT [--keep]"""

from __future__ import annotations

import email
import email.policy
import json
import signal
import sys
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

#: the longest a reader may wait for mail in one request
MAX_WAIT_SECONDS = 60.0


class Counter:
    def __init__(self, keep: bool = False) -> None:
        self.count = 0
        self.keep = keep
        self.boxes: defaultdict[str, list[bytes]] = defaultdict(list)
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        with self.arrived:
            self.count += 1
            if self.keep:
                for recipient in envelope.rcpt_tos:
                    self.boxes[recipient.lower()].append(raw)
                self.arrived.notify_all()
        return "250 OK"

    def read(self, to: str, start: int, wait: float) -> tuple[int, list[bytes]]:
        """The messages to ``to`` from index ``start`` on, after waiting for one if none."""
        with self.arrived:
            box = self.boxes[to.lower()]
            self.arrived.wait_for(lambda: len(box) > start, timeout=min(wait, MAX_WAIT_SECONDS))
            return len(box), box[start:]


def text_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return "" if part is None else str(part.get_content())


def main() -> int:
    smtp_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    counter = Counter(keep="--keep" in sys.argv[3:])
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    class Count(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a benchmark's readers reuse connections

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path == "/mail" and counter.keep:
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                count, raws = counter.read(
                    query.get("to", ""), int(query.get("from", 0)), float(query.get("wait", 0))
                )
                body = json.dumps({"count": count, "texts": [text_of(r) for r in raws]}).encode()
                content_type = "application/json"
            else:
                body, content_type = str(counter.count).encode(), "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
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
