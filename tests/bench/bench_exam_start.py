"""`make bench-exam-start`: N enrolled candidates start the same exam through the gateway
within 60 seconds, then each autosaves its answer every 30 seconds for BENCH_MINUTES; the
latency of starts and saves, the errors, and the peak memory and CPU of every process.

The platform runs as it is deployed (see bench_signin.py): gunicorn web processes for the
gateway and exams, and the exams worker, on RabbitMQ (AMQP_URL) and PostgreSQL (DATABASE_URL)
when set, else on the filesystem bus and SQLite. Not timed: a coordinator creates the
evaluation, the N candidates are enrolled the way the exams service learns of them (one
AccountActivated each, published through a throwaway "identity" outbox and relay: activating
real accounts would cost two argon2 hashes each), the exam (screen share and webcam required)
is created with its subject, and candidate access tokens are minted with the gateway's key.
Timed: candidate i sends its start at i/N of the start spread (uniform over 60 s), then
saves its growing answer (about 200 to 2,000 characters) every 30 s, at an offset of its own
within the period, for BENCH_MINUTES after its start, each save over the revision of the last
one. Latency is measured from the moment the request is sent; how late the client sent it
against its schedule is printed too, with the client's own CPU, so a saturated client shows.

BENCH_CANDIDATES (2000), BENCH_MINUTES (5), BENCH_START_SECONDS (60), BENCH_SAVE_SECONDS
(30), BENCH_CLIENT_THREADS (256), BENCH_GATEWAY_WORKERS / _THREADS (2 / 8) and
BENCH_EXAMS_WORKERS / _THREADS (2 / 4) for gunicorn: as the Dockerfiles have them."""

from __future__ import annotations

import heapq
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import summary  # noqa: E402
from bench_signin import (  # noqa: E402  (its /proc accounting and platform helpers)
    OTHER,
    answers,
    cpu_by_role,
    cpu_snapshot,
    delete_bus,
    percentile,
)
from benchkit import (  # noqa: E402
    BenchError,
    Processes,
    databases,
    descendants,
    drop,
    new_ports,
    platform_env,
    wait_for,
)
from summary import at_most, told  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CORES = os.cpu_count() or 1
CANDIDATES = int(os.environ.get("BENCH_CANDIDATES", 2000))
MINUTES = float(os.environ.get("BENCH_MINUTES", 5))
START_SECONDS = float(os.environ.get("BENCH_START_SECONDS", 60))
SAVE_SECONDS = float(os.environ.get("BENCH_SAVE_SECONDS", 30))
CLIENT_THREADS = int(os.environ.get("BENCH_CLIENT_THREADS", 256))
SERVICES = ("exams",)
#: (workers, threads) of each web process, as deployed (gateway/Dockerfile, exams' Dockerfile)
GUNICORN = {
    "gateway": (
        int(os.environ.get("BENCH_GATEWAY_WORKERS", 2)),
        int(os.environ.get("BENCH_GATEWAY_THREADS", 8)),
    ),
    "exams": (
        int(os.environ.get("BENCH_EXAMS_WORKERS", 2)),
        int(os.environ.get("BENCH_EXAMS_THREADS", 4)),
    ),
}
REF = "BENCH-EXAM-START"
ENROL_TIMEOUT = 600.0
SAVES_PER_CANDIDATE = max(1, int(MINUTES * 60 // SAVE_SECONDS))
SMALLEST, LARGEST = 200, 2000
WORDS = (
    "the proof follows by induction on n since each step preserves the invariant and the "
    "base case holds trivially; therefore the sequence converges and its limit satisfies "
    "the equation above, which answers the second part of the question as well. "
).split()
#: a tiny valid PDF: the subject
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# --- the candidates' schedule and what happened to it


@dataclass
class Candidate:
    index: int
    account_id: str
    token: str = ""
    attempt_id: str = ""
    revision: int = 0
    saves_done: int = 0
    started_at: float = 0.0  # monotonic, when its start answered
    text: str = ""


@dataclass
class Record:
    kind: str  # "start" or "save"
    latency: float
    lag: float  # how late the client sent it against its schedule
    outcome: str  # "ok", or the error's kind


@dataclass
class Results:
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def of(self, kind: str) -> list[Record]:
        return [r for r in self.records if r.kind == kind]


class Client:
    """One keep-alive connection per thread, to the gateway."""

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def call(
        self, method: str, path: str, token: str, body: Any
    ) -> tuple[int, dict[str, Any], float]:
        headers = {"Authorization": f"Bearer {token}"}
        sent = time.perf_counter()
        answer = self.http.request(
            method, self.gateway + path, json=body, headers=headers, timeout=60
        )
        latency = time.perf_counter() - sent
        try:
            parsed = answer.json()
        except ValueError:
            parsed = {}
        return answer.status_code, parsed if isinstance(parsed, dict) else {}, latency


def error_kind(status: int, body: dict[str, Any]) -> str:
    return f"{status} {body.get('error', '?')}"


class Load:
    """The timed phase: a heap of (due, candidate, action) run on a thread pool."""

    def __init__(self, client: Client, exam_id: str, candidates: list[Candidate]) -> None:
        self.client = client
        self.exam_id = exam_id
        self.candidates = candidates
        self.results = Results()
        self.heap: list[tuple[float, int, str]] = []
        self.heap_lock = threading.Condition()
        self.pending = 0
        self.origin = 0.0
        self.examples: dict[str, str] = {}
        self.starts_answered = 0
        #: CPU snapshots when the start phase began and when the last start answered
        self.start_snapshots: list[dict[int, tuple[str, int, float]]] = []
        self.databases: list[str] = []
        rng = random.Random(7)
        self.offsets = [rng.uniform(0, SAVE_SECONDS) for _ in candidates]

    def schedule(self, due: float, index: int, action: str) -> None:
        with self.heap_lock:
            heapq.heappush(self.heap, (due, index, action))
            self.pending += 1
            self.heap_lock.notify()

    def run(self) -> float:
        """Run the whole schedule; the wall time of the start phase."""
        self.origin = time.monotonic() + 1.0
        n = len(self.candidates)
        for c in self.candidates:
            self.schedule(self.origin + START_SECONDS * c.index / n, c.index, "start")
        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            while True:
                with self.heap_lock:
                    if self.pending == 0:
                        break
                    if not self.heap:
                        self.heap_lock.wait(0.5)
                        continue
                    due, index, action = self.heap[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        self.heap_lock.wait(min(wait, 0.5))
                        continue
                    heapq.heappop(self.heap)
                pool.submit(self._guarded, due, index, action)
        starts_ended = max((c.started_at for c in self.candidates), default=self.origin)
        return max(0.0, starts_ended - self.origin)

    def _guarded(self, due: float, index: int, action: str) -> None:
        try:
            if action == "start":
                self._start(due, self.candidates[index])
            else:
                self._save(due, self.candidates[index])
        except Exception as exc:  # noqa: BLE001  (a failed request is a result, not the end)
            self.failed(exc)
            self.results.add(Record(action, 0.0, time.monotonic() - due, type(exc).__name__))
        finally:
            with self.heap_lock:
                self.pending -= 1
                self.heap_lock.notify()

    def failed(self, exc: BaseException) -> None:
        """Keep the first message of each kind of exception, to print."""
        with self.heap_lock:
            self.examples.setdefault(type(exc).__name__, str(exc)[:300])

    def _start(self, due: float, c: Candidate) -> None:
        lag = time.monotonic() - due
        body = {
            "terms_accepted": True,
            "screen_share": {"display_surface": "monitor"},
            "webcam": {"ok": True},
        }
        status, answer, latency = self.client.call(
            "POST", f"/api/v1/exams/{self.exam_id}/start", c.token, body
        )
        ok = status in (200, 201)
        self.results.add(Record("start", latency, lag, "ok" if ok else error_kind(status, answer)))
        with self.heap_lock:
            self.starts_answered += 1
            last = self.starts_answered == len(self.candidates)
        if last:
            self.start_snapshots.append(cpu_snapshot(self.databases))
        if not ok:
            return
        c.attempt_id = str(answer["attempt_id"])
        c.revision = int(answer["revision"])
        c.started_at = time.monotonic()
        self.schedule(c.started_at + self.offsets[c.index], c.index, "save")

    def _save(self, due: float, c: Candidate) -> None:
        lag = time.monotonic() - due
        c.saves_done += 1
        share = (c.saves_done - 1) / max(1, SAVES_PER_CANDIDATE - 1)
        content = c.text[: int(SMALLEST + share * (LARGEST - SMALLEST))]
        try:
            status, answer, latency = self.client.call(
                "PUT",
                f"/api/v1/attempts/{c.attempt_id}/answer",
                c.token,
                {"content": content, "revision": c.revision},
            )
        except requests.RequestException as exc:  # counted; the page saves again next time
            self.failed(exc)
            status, answer, latency = 0, {"error": type(exc).__name__}, time.monotonic() - due
        ok = status == 200
        self.results.add(Record("save", latency, lag, "ok" if ok else error_kind(status, answer)))
        if ok:
            c.revision = int(answer["revision"])
        elif status == 409 and isinstance(answer.get("revision"), int):
            c.revision = int(answer["revision"])  # what a page does on stale_revision
        if c.saves_done < SAVES_PER_CANDIDATE:
            # the next save keeps its slot in the period, however long this one took
            following = due + SAVE_SECONDS
            self.schedule(max(following, time.monotonic()), c.index, "save")


def answer_text(index: int) -> str:
    rng = random.Random(index)
    words: list[str] = [f"Answer of candidate {index}."]
    while sum(len(w) + 1 for w in words) < LARGEST + 50:
        words.append(rng.choice(WORDS))
    return " ".join(words)


# --- setup, not timed


def coordinator_call(
    client: Client, method: str, path: str, token: str, body: Any, expect: tuple[int, ...]
) -> dict[str, Any]:
    status, answer, _ = client.call(method, path, token, body)
    if status not in expect:
        raise BenchError(f"{method} {path}: {status} {answer}")
    return answer


def enrol(env: dict[str, str], folder: Path, institution: str, accounts: list[str]) -> None:
    """One AccountActivated per candidate, staged in a throwaway identity outbox and relayed
    to the run's bus: what identity does when an invited candidate activates."""
    from sqlalchemy import MetaData, create_engine

    from contracts.bus import BusAddress, Outbox, Relay, Topology
    from contracts.runtime.database import make_sessions

    metadata = MetaData()
    outbox = Outbox(metadata, "identity")
    engine = create_engine(f"sqlite:///{folder}/identity-outbox.db")
    metadata.create_all(engine)
    now = datetime.now(UTC)
    events = [
        (
            "AccountActivated",
            {
                "account_id": uuid.UUID(account),
                "email": f"exam-{i}-{account[:8]}@example.org",
                "first_name": "Candidate",
                "last_name": str(i),
                "language": "fr" if i % 2 else "en",
                "invitation_id": uuid.uuid4(),
                "institution_id": uuid.UUID(institution),
                "evaluation": {"ref": REF, "name": "Benchmark exam"},
                "activated_at": now,
            },
            "",
        )
        for i, account in enumerate(accounts)
    ]
    sessions = make_sessions(engine)
    with sessions() as session, session.begin():
        outbox.add_many(session, events)
    relay = Relay(
        engine,
        outbox.table,
        BusAddress(env["BUS_URL"], folder),
        Topology.for_namespace(env["BUS_NAMESPACE"]),
        "identity",
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for("the relay", lambda: relay.pending_count() == 0, 300)
    finally:
        stop.set()
        thread.join(timeout=15)
        engine.dispose()


MINT = """
import json, sys
from datetime import timedelta
from gateway import create_app
minter = create_app().extensions["nexam.gateway"]["minter"]
lifetime = timedelta(seconds=int(sys.argv[1]))
print(json.dumps([
    minter.mint(subject=a, roles=["candidate"], institution=None, amr=["pwd", "otp"],
                lifetime=lifetime, extra={"sid": a})
    for a in json.load(sys.stdin)
]))
"""


def mint_tokens(python: str, env: dict[str, str], accounts: list[str]) -> list[str]:
    lifetime = int(START_SECONDS + MINUTES * 60 + 3600)
    printed = subprocess.run(
        [python, "-c", MINT, str(lifetime)],
        env=env,
        input=json.dumps(accounts),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return list(json.loads(printed))


# --- memory, from /proc


class PeakMemory:
    """VmHWM (the resident peak) of every process of the run, read every few seconds so a
    process that exits is still counted: pid -> (role, what it is, KiB)."""

    def __init__(self, roles: dict[int, str]) -> None:
        self.roles = roles
        self.peaks: dict[int, tuple[str, str, int]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(2.0):
            self.read()

    def read(self) -> None:
        snapshot = cpu_snapshot()
        for root, role in self.roles.items():
            for pid in descendants(snapshot, [root]):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kib = next(
                    (
                        int(line.split()[1])
                        for line in status.splitlines()
                        if line.startswith("VmHWM:")
                    ),
                    0,
                )
                what = "master" if pid == root else "worker"
                if not role.endswith(" web"):
                    what = "process"
                previous = self.peaks.get(pid, (role, what, 0))[2]
                self.peaks[pid] = (role, what, max(previous, kib))

    def finish(self) -> dict[int, tuple[str, str, int]]:
        self.stop.set()
        self.thread.join(timeout=10)
        self.read()
        return self.peaks


# --- the run


@dataclass
class Outcome:
    load: Load
    start_wall: float
    total_wall: float
    setup_seconds: float
    cpu: dict[str, float]
    cpu_start: dict[str, float]
    cpu_saves: dict[str, float]
    memory: dict[int, tuple[str, str, int]]
    folder: Path


def main() -> None:
    report(run_platform())


def run_platform() -> Outcome:
    folder = Path(tempfile.mkdtemp(prefix="nexam-bench-exam-start-"))
    (folder / "logs").mkdir()
    urls, created = databases(folder, SERVICES)
    allotted = new_ports(SERVICES)
    env = platform_env(folder, urls, allotted)
    python = sys.executable
    platform = Processes(folder, env, ROOT)
    roles, start = platform.roles, platform.start
    ok = False

    def web(name: str, port: int) -> None:
        platform.web(name, port, *GUNICORN[name])

    try:
        platform.migrate(SERVICES)
        web("gateway", allotted.gateway)
        web("exams", allotted.services["exams"])
        start("exams worker", python, "-m", "exams.worker")
        for port in (allotted.gateway, allotted.services["exams"]):
            wait_for(
                "the web processes",
                lambda port=port: answers(f"http://127.0.0.1:{port}/healthz"),
                60,
            )
        memory = PeakMemory(roles)
        memory.start()
        client = Client(f"http://127.0.0.1:{allotted.gateway}")

        # not timed: the evaluation, its N candidates, the exam and its subject, the tokens
        began = time.perf_counter()
        institution = str(uuid.uuid4())
        coordinator = coordinator_token_for(python, env, institution)
        coordinator_call(
            client,
            "PUT",
            f"/api/v1/evaluations/{REF}",
            coordinator,
            {"name": "Benchmark exam"},
            (200, 201),
        )
        accounts = [str(uuid.uuid4()) for _ in range(CANDIDATES)]
        # the worker declares the exams queue; the relay declares the topology again
        time.sleep(2)
        print(f"bench-exam-start: enrolling {CANDIDATES} candidates (not timed)", flush=True)
        enrol(env, folder, institution, accounts)

        def enrolled() -> int:
            return int(
                coordinator_call(
                    client, "GET", f"/api/v1/evaluations/{REF}", coordinator, None, (200,)
                )["enrolled"]
            )

        wait_for("the enrolments", lambda: enrolled() >= CANDIDATES, ENROL_TIMEOUT)
        enrolled_after = time.perf_counter() - began
        print(f"  {CANDIDATES} enrolled in {enrolled_after:.1f} s; minting tokens", flush=True)
        tokens = mint_tokens(python, env, accounts)
        candidates = [
            Candidate(i, a, token=t, text=answer_text(i))
            for i, (a, t) in enumerate(zip(accounts, tokens, strict=True))
        ]
        opens = datetime.now(UTC) + timedelta(seconds=8)
        exam = coordinator_call(
            client,
            "POST",
            f"/api/v1/evaluations/{REF}/exams",
            coordinator,
            {
                "title": "Benchmark exam",
                "starts_at": opens.isoformat(),
                "duration_minutes": int(MINUTES + START_SECONDS / 60 + 5),
                "start_window_minutes": 20,
                "requires": {
                    "screen_share": True,
                    "webcam": True,
                    "device_check": False,
                    "technical_test": False,
                },
            },
            (201,),
        )
        exam_id = str(exam["id"])
        answer = client.http.put(
            f"{client.gateway}/api/v1/exams/{exam_id}/document",
            data=PDF,
            headers={"Content-Type": "application/pdf", "Authorization": f"Bearer {coordinator}"},
            timeout=60,
        )
        if answer.status_code != 200:
            raise BenchError(f"subject upload: {answer.status_code} {answer.text[:300]}")
        setup_seconds = time.perf_counter() - began
        time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.5)

        # timed
        print(
            f"  {CANDIDATES} starts over {START_SECONDS:.0f} s, then a save every "
            f"{SAVE_SECONDS:.0f} s each for {MINUTES:g} min ...",
            flush=True,
        )
        load = Load(client, exam_id, candidates)
        client_roles = {**roles, os.getpid(): "bench client (this process)"}
        load.databases = created
        before = cpu_snapshot(created)
        load.start_snapshots.append(before)
        wall_began = time.monotonic()
        start_wall = load.run()
        total_wall = time.monotonic() - wall_began
        after = cpu_snapshot(created)
        cpu = cpu_by_role(before, after, client_roles)
        starts_done = load.start_snapshots[-1] if len(load.start_snapshots) > 1 else after
        cpu_start = cpu_by_role(before, starts_done, client_roles)
        cpu_saves = cpu_by_role(starts_done, after, client_roles)
        peaks = memory.finish()
        ok = True
        return Outcome(
            load, start_wall, total_wall, setup_seconds, cpu, cpu_start, cpu_saves, peaks, folder
        )
    finally:
        platform.stop()
        try:
            delete_bus(env, folder)
        finally:
            drop(created)
            if ok:
                # the logs tell what the errors were: kept when there were any
                shutil.rmtree(folder / "var", ignore_errors=True)
                shutil.rmtree(folder / "bus", ignore_errors=True)
                if not any(r.outcome != "ok" for r in load.results.records):
                    shutil.rmtree(folder, ignore_errors=True)
            else:
                print(f"bench-exam-start: the processes' logs are in {folder / 'logs'}")


def coordinator_token_for(python: str, env: dict[str, str], institution: str) -> str:
    """A coordinator's token for ``institution`` (bench_signin's takes a random one)."""
    command = ["-m", "flask", "--app", "gateway", "dev-token", "--institution", institution]
    printed = subprocess.run(
        [python, *command], env=env, check=True, capture_output=True, text=True
    ).stdout
    return str(json.loads(printed)["access_token"])


# --- the report


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    v = [x * 1000 for x in values]
    return f"{percentile(v, 50):7.0f} / {percentile(v, 99):.0f} / {max(v):.0f} ms"


def report(outcome: Outcome) -> None:
    load = outcome.load
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    bus = "RabbitMQ" if os.environ.get("AMQP_URL") else "filesystem bus"
    starts = load.results.of("start")
    saves = load.results.of("save")
    started_ok = [r for r in starts if r.outcome == "ok"]
    saved_ok = [r for r in saves if r.outcome == "ok"]
    planned = CANDIDATES * SAVES_PER_CANDIDATE
    web = ", ".join(f"{name} {w}x{t}" for name, (w, t) in GUNICORN.items())

    def line(label: str, value: str) -> None:
        print(f"  {label + ' ':.<46} {value}")

    print(f"bench-exam-start: {CANDIDATES} candidates through the gateway ({backend}, {bus})")
    print(f"  {CORES} cores; gunicorn (workers x threads) {web}; exams worker; client")
    print(
        f"    {CLIENT_THREADS} threads (requests); N = {CANDIDATES}, starts spread over "
        f"{START_SECONDS:.0f} s, a save every {SAVE_SECONDS:.0f} s for {MINUTES:g} min"
    )
    line("setup: evaluation, enrolments, exam (not timed)", f"{outcome.setup_seconds:7.1f} s")
    line("starts ok / sent", f"{len(started_ok):7d} / {len(starts)}")
    line("start latency p50 / p99 / max (ok)", ms([r.latency for r in started_ok]))
    line(
        "starts per second achieved",
        f"{len(started_ok) / max(outcome.start_wall, 1e-9):7.1f} /s "
        f"(last start answered {outcome.start_wall:.1f} s after the first was due)",
    )
    line("autosave latency p50 / p99 / max (ok)", ms([r.latency for r in saved_ok]))
    line("saves ok / sent / planned", f"{len(saved_ok):7d} / {len(saves)} / {planned}")
    line(
        "saves per second (ok, over the whole run)",
        f"{len(saved_ok) / outcome.total_wall:7.1f} /s over {outcome.total_wall:.0f} s",
    )
    lags = [r.lag for r in load.results.records]
    line("client lag behind schedule p50 / p99 / max", ms(lags))
    errors = Counter(f"{r.kind}: {r.outcome}" for r in load.results.records if r.outcome != "ok")
    if errors:
        print("  errors:")
        for kind, count in errors.most_common():
            print(f"    {kind:<44} {count}")
        for name, message in load.examples.items():
            print(f"    e.g. {name}: {message}")
    else:
        line("errors", "      0")
    print("  peak memory (VmHWM), MiB:")
    by_role: dict[str, list[tuple[str, int, int]]] = {}
    for pid, (role, what, kib) in outcome.memory.items():
        by_role.setdefault(role, []).append((what, pid, kib))
    for role, rows in sorted(by_role.items()):
        total = sum(kib for _, _, kib in rows) / 1024
        parts = ", ".join(
            f"{what} {pid} {kib / 1024:.0f}" for what, pid, kib in sorted(rows, key=lambda r: r[1])
        )
        print(f"    {role:<28} {total:7.0f} in all ({parts})")
    wall, start_wall = outcome.total_wall, max(outcome.start_wall, 1e-9)
    save_wall = max(wall - start_wall, 1e-9)
    print(
        f"  CPU, seconds (cores busy): starts ({start_wall:.0f} s) | "
        f"autosaves after them ({save_wall:.0f} s) | whole timed run ({wall:.0f} s)"
    )
    outside = (OTHER, "PostgreSQL, other")
    names = sorted(outcome.cpu, key=lambda n: (n in outside, -outcome.cpu[n]))

    def cell(used: float, seconds: float) -> str:
        return f"{used:7.1f} ({used / seconds:4.2f})"

    def row(name: str, a: float, b: float, c: float) -> None:
        print(f"    {name:<30} {cell(a, start_wall)} | {cell(b, save_wall)} | {cell(c, wall)}")

    for name in names:
        row(
            name,
            outcome.cpu_start.get(name, 0.0),
            outcome.cpu_saves.get(name, 0.0),
            outcome.cpu[name],
        )

    def ours(cpu: dict[str, float]) -> float:
        return sum(v for n, v in cpu.items() if n not in outside)

    row(
        f"this run in all (of {CORES})",
        ours(outcome.cpu_start),
        ours(outcome.cpu_saves),
        ours(outcome.cpu),
    )
    if any(r.outcome != "ok" for r in load.results.records):
        print(f"  the processes' logs are in {outcome.folder / 'logs'}")
    failed = sum(errors.values())
    figures = [
        at_most("errors", failed, 0),
        at_most(
            "start p99",
            percentile([r.latency * 1000 for r in started_ok] or [math.inf], 99),
            300,
            "ms",
        ),
        at_most(
            "autosave p99",
            percentile([r.latency * 1000 for r in saved_ok] or [math.inf], 99),
            300,
            "ms",
        ),
        told(
            "peak memory (VmHWM, sum)",
            sum(k for _r, _w, k in outcome.memory.values()) / 1024,
            "MiB",
            0,
        ),
    ]
    setting = f"{backend}, {bus}, {CANDIDATES:,} candidates, {MINUTES:g} min"
    recorded = summary.record("bench-exam-start", setting, figures)
    print(f"  figures recorded in {recorded.relative_to(summary.ROOT)}")


if __name__ == "__main__":
    main()
