"""Secrets kept in files: generated on first use in dev and test, given in production."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def write_secret_file_once(path: Path, content: bytes) -> None:
    """Create ``path`` with mode 0600 holding ``content``, unless it exists. Written under a
    temporary name and linked into place, so processes starting together agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def read_secret_file(path: Path, *, generate: Callable[[], bytes] | None) -> bytes:
    """The secret in ``path``; made with ``generate`` first when it is missing and
    generating is allowed."""
    if not path.exists():
        if generate is None:
            raise FileNotFoundError(f"secret file {path} does not exist")
        write_secret_file_once(path, generate())
    return path.read_bytes()
