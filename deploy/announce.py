"""Part of `make run`: waits until every web process answers /healthz, prints where to
click, then stays up (the Procfile runner stops everything when one process ends)."""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request

from contracts.runtime.settings import PORTS

WEB = {**PORTS, "dev mailbox": 8025}


def healthy(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    deadline = time.monotonic() + float(os.environ.get("ANNOUNCE_TIMEOUT", 60))
    waiting = dict(WEB)
    while waiting and time.monotonic() < deadline:
        for name, port in list(waiting.items()):
            if healthy(port, "/" if name == "dev mailbox" else "/healthz"):
                del waiting[name]
        time.sleep(0.3)
    if waiting:
        print(f"not up after the wait: {', '.join(waiting)}", flush=True)
    else:
        public = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
        print(
            "\n  Nexam is running.\n"
            f"    Sign in ................. {public}/connexion\n"
            f"    Activate (invitation) ... {public}/connexion/code-invitation\n"
            f"    Public API .............. {public}/api/v1/openapi.json\n"
            "    Dev mailbox (maildump) .. http://127.0.0.1:8025 (SMTP 127.0.0.1:1025)\n"
            "    Services ................ identity :8001, invitations :8002, notifier :8003,"
            " exams :8004, devicecheck :8005 (/healthz, /readyz, /metrics)\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
