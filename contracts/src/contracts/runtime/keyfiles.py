"""Secrets kept in files: generated on first use in dev and test, given in production."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from contracts.bus.sealing import Sealer
from contracts.runtime.settings import ConfigurationError, ServiceSettings

#: the platform's sealing key: one file for every service (producers seal, consumers open)
BUS_SEAL_KEY_FILE = "BUS_SEAL_KEY_FILE"


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


def service_key(
    settings: ServiceSettings, environ: Mapping[str, str], variable: str, filename: str
) -> bytes:
    """An HMAC key of at least 32 bytes from the file named by ``variable``; outside
    production, generated under ``var/keys/filename`` when the variable is not set."""
    key_file = environ.get(variable)
    if settings.env == "prod" and not key_file:
        raise ConfigurationError(f"{variable} must name a key file in production")
    path = Path(key_file) if key_file else settings.var_dir / "keys" / filename
    generate = None if key_file else (lambda: secrets.token_hex(32).encode())
    try:
        key = read_secret_file(path, generate=generate).strip()
    except FileNotFoundError as exc:
        raise ConfigurationError(str(exc)) from None
    if len(key) < 32:
        raise ConfigurationError(f"{path} must hold at least 32 bytes")
    return key


def bus_sealer(settings: ServiceSettings) -> Sealer:
    """The sealer of sensitive event fields, under the key file ``BUS_SEAL_KEY_FILE`` names
    (required in production); elsewhere generated once under ``var/keys``, which every
    process of a workstation shares."""
    named = {BUS_SEAL_KEY_FILE: settings.bus_seal_key_file} if settings.bus_seal_key_file else {}
    return Sealer(service_key(settings, named, BUS_SEAL_KEY_FILE, "bus-seal.key"))
