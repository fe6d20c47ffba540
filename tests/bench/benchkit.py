"""What the benchmarks share: free ports, polling with a deadline, and a fresh PostgreSQL
database per service when DATABASE_URL names a server (SQLite files otherwise)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


class BenchError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        time.sleep(0.1)


def databases(folder: Path, services: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Each service's database URL, and the PostgreSQL databases to drop afterwards."""
    server = os.environ.get("DATABASE_URL")
    if not server:
        return {s: f"sqlite:///{folder}/{s}.db" for s in services}, []
    base = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    names = {s: f"nexam_bench_{s}_{uuid.uuid4().hex[:6]}" for s in services}
    with admin.connect() as c:
        for name in names.values():
            c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    urls = {s: base.set(database=n).render_as_string(hide_password=False) for s, n in names.items()}
    return urls, list(names.values())


def drop(names: list[str]) -> None:
    if not names:
        return
    admin = create_engine(
        make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as c:
        for name in names:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
