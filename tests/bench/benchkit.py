"""What the benchmarks share: free ports, polling with a deadline, and a fresh PostgreSQL
database per service when DATABASE_URL names a server (SQLite files otherwise)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Ports:
    smtp: int
    sink_http: int
    gateway: int
    services: Mapping[str, int]


def platform_env(
    folder: Path, databases: Mapping[str, str], ports: Ports, **extra: str
) -> dict[str, str]:
    """The environment of every process of a benchmark's platform: on RabbitMQ when
    AMQP_URL is set (in a namespace of its own), else on the filesystem bus under
    ``folder``."""
    return {
        **os.environ,
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(folder / "var"),
        "BUS_URL": os.environ.get("AMQP_URL", f"filesystem://{folder}/bus"),
        "BUS_NAMESPACE": f"bench{uuid.uuid4().hex[:6]}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(ports.smtp),
        "GATEWAY_JWKS_URL": f"http://127.0.0.1:{ports.gateway}/.well-known/jwks.json",
        **{f"{s.upper()}_DATABASE_URL": u for s, u in databases.items()},
        **{f"{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.services.items()},
        **{f"{s.upper()}_WORKER_METRICS_PORT": str(free_port()) for s in ports.services},
        **extra,
    }


def new_ports(services: Iterable[str]) -> Ports:
    return Ports(free_port(), free_port(), free_port(), {s: free_port() for s in services})


class Processes:
    """A benchmark platform's processes, each logging to ``folder/logs/<role>.log``."""

    def __init__(self, folder: Path, env: Mapping[str, str], cwd: Path) -> None:
        self.folder = folder
        self.env = dict(env)
        self.cwd = cwd
        self.started: list[subprocess.Popen[bytes]] = []
        self.roles: dict[int, str] = {}

    def start(self, role: str, *command: str) -> None:
        log = open(self.folder / "logs" / f"{role.replace(' ', '-')}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            command, env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=log
        )
        self.started.append(process)
        self.roles[process.pid] = role

    def migrate(self, services: Iterable[str]) -> None:
        """Each service's database to its latest schema, before its processes start."""
        for service in services:
            subprocess.run([sys.executable, "-m", f"{service}.migrate"], env=self.env, check=True)

    def web(self, name: str, port: int, workers: int, threads: int) -> None:
        """``name``'s web process under gunicorn, as it is deployed."""
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.start(
            f"{name} web",
            gunicorn,
            "-c",
            "python:contracts.runtime.gunicorn_conf",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            f"{name}:create_app()",
        )

    def stop(self) -> None:
        """SIGTERM to each, last started first, then a kill for any still up after 30 s."""
        for process in reversed(self.started):
            process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def descendants(processes: Mapping[int, Sequence[Any]], pids: Iterable[int]) -> set[int]:
    """``pids`` and every process under them. ``processes``: pid -> a tuple whose second
    item is the parent's pid (as in ``/proc/<pid>/stat``)."""
    found = set(pids)
    grew = True
    while grew:
        grew = False
        for pid, described in processes.items():
            if described[1] in found and pid not in found:
                found.add(pid)
                grew = True
    return found


# --- the platform exactly as `make run` starts it

#: what a newcomer's shell would not have: the benchmark's own servers are the ones named
_DEPLOYED_ONLY = ("DATABASE_URL", "AMQP_URL", "BUS_URL", "REDIS_URL")


def embedded_env(folder: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    """`make run`'s environment, with its var/ under ``folder`` and the emails to the
    benchmark's SMTP sink instead of the dev mailbox."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _DEPLOYED_ONLY and not name.endswith(("_DATABASE_URL", "_BUS_URL"))
    }
    return {
        **env,
        "NEXAM_VAR_DIR": str(folder / "var"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        **extra,
    }


def start_embedded(platform: Processes, services: Iterable[str]) -> None:
    """Migrations, then the Procfile `make run` starts, under honcho as `make run` does."""
    platform.migrate(services)
    honcho = str(Path(sys.executable).parent / "honcho")
    procfile = str(platform.cwd / "deploy" / "Procfile.dev")
    platform.start("make run", honcho, "--procfile", procfile, "--app-root", ".", "start")


def name_embedded_roles(platform: Processes) -> None:
    """Each process honcho started, named by its Procfile command (gunicorn workers count
    for their master), so CPU and memory are told per role rather than all as `make run`."""
    (runner,) = [pid for pid, role in platform.roles.items() if role == "make run"]
    processes: dict[int, tuple[list[str], int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        processes[int(entry)] = ([a.decode(errors="replace") for a in argv if a], parent)
    for pid in descendants(processes, [runner]) - {runner}:
        role = _role_of(processes[pid][0])
        if role is not None:
            platform.roles[pid] = role


def _role_of(argv: list[str]) -> str | None:
    for arg in argv:
        if arg.endswith(":create_app()"):
            return f"{arg.partition(':')[0]} web"
        if arg.endswith(".worker"):
            return f"{arg.partition('.')[0]} worker"
    if any("maildump" in a for a in argv):
        return "dev mailbox"
    if any("announce" in a for a in argv):
        return "ready announcer"
    return None  # honcho's own helpers: counted as `make run`
