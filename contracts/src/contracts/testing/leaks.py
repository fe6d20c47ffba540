"""Looking for a secret in every file a test's platform wrote: databases with their journals,
the bus folder, logs. A secret counts in each form a file could hold it in."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

#: a secret this long is also looked for in thirds, which a line break (quoted-printable
#: wraps lines at 76 characters) cannot all split, and each too long to match by chance
PIECES_FROM = 36


def forms_of(secret: str) -> set[bytes]:
    """``secret`` raw, as JSON writes it (with and without escaped slashes), URL-encoded,
    and for a long one its thirds."""
    escaped = json.dumps(secret)[1:-1]
    forms = {
        secret,
        escaped,
        escaped.replace("/", "\\/"),
        quote(secret, safe=""),
        quote_plus(secret),
    }
    if len(secret) >= PIECES_FROM:
        third = len(secret) // 3
        forms |= {secret[:third], secret[third : 2 * third], secret[2 * third :]}
    return {form.encode() for form in forms}


def files_holding(root: Path, needles: Iterable[bytes]) -> list[tuple[str, bytes]]:
    """(file, needle) for every needle found in a file under ``root``; a message file of the
    filesystem transport is also read with its body decoded (kombu writes it in base64)."""
    wanted = [needle for needle in needles if needle]
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            content = path.read_bytes()
        except FileNotFoundError:  # a message file acked while we looked
            continue
        readable = content + b"\n" + _message_body(content)
        found += [(str(path.relative_to(root)), n) for n in wanted if n in readable]
    return found


def _message_body(content: bytes) -> bytes:
    try:
        message = json.loads(content)
        if message["properties"]["body_encoding"] == "base64":
            return base64.b64decode(message["body"])
    except (ValueError, TypeError, KeyError):
        pass
    return b""
