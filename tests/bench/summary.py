"""The benchmarks' figures against the issue's goals: each benchmark records its own in
``var/bench/<benchmark>.json`` when it ends; `make bench` then writes them all to
``var/bench/summary.md`` (a Markdown table: figure, goal, held), which the README links to.
Usage: python summary.py (writes the summary from the figures recorded so far)."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "var" / "bench"
#: in the order `make bench` runs them
BENCHMARKS = (
    "bench-bus",
    "bench-invite",
    "bench-signin-embedded",
    "bench-signin",
    "bench-exam-start",
)


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    #: the goal in words ("at least 2.0", "at most 300 ms"); empty for a figure told only
    goal: str = ""
    #: whether the value meets the goal (None: no goal)
    held: bool | None = None


def at_least(name: str, value: float, goal: float, unit: str = "", digits: int = 2) -> Figure:
    return Figure(name, _show(value, unit, digits), f"≥ {_show(goal, unit, digits)}", value >= goal)


def at_most(name: str, value: float, goal: float, unit: str = "", digits: int = 0) -> Figure:
    return Figure(name, _show(value, unit, digits), f"≤ {_show(goal, unit, digits)}", value <= goal)


def told(name: str, value: float, unit: str = "", digits: int = 1) -> Figure:
    return Figure(name, _show(value, unit, digits))


def _show(value: float, unit: str, digits: int) -> str:
    return f"{value:,.{digits}f}{' ' + unit if unit else ''}"


def record(benchmark: str, setting: str, figures: list[Figure]) -> Path:
    """``setting``: how it ran (backend, bus, sizes), one line."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"{benchmark}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": benchmark,
                "setting": setting,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "figures": [asdict(f) for f in figures],
            },
            indent=2,
        )
    )
    return path


def write_summary(folder: Path = FOLDER) -> Path:
    recorded = {}
    for path in sorted(folder.glob("*.json")):
        body = json.loads(path.read_text())
        recorded[body["benchmark"]] = body
    order = [*BENCHMARKS, *sorted(set(recorded) - set(BENCHMARKS))]
    lines = [
        "# Benchmarks",
        "",
        f"Written {datetime.now(UTC).isoformat(timespec='seconds')} on {platform.node()} "
        f"({_cores()} cores), by `make bench`. Each figure comes from the run named above "
        "its rows; a benchmark with no recorded run says so.",
        "",
        "| Benchmark | Figure | Value | Goal | Held |",
        "|---|---|---|---|---|",
    ]
    for name in order:
        body = recorded.get(name)
        if body is None:
            missing = "no figures recorded (not run, failed, or records none yet)"
            lines.append(f"| `{name}` | {missing} | | | |")
            continue
        lines.append(f"| `{name}` | *{body['setting']}, {body['at']}* | | | |")
        for figure in body["figures"]:
            held = {True: "yes", False: "**no**", None: ""}[figure["held"]]
            lines.append(f"| | {figure['name']} | {figure['value']} | {figure['goal']} | {held} |")
    summary = folder / "summary.md"
    folder.mkdir(parents=True, exist_ok=True)
    summary.write_text("\n".join(lines) + "\n")
    return summary


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    written = write_summary()
    sys.stdout.write(written.read_text())
    print(f"(written to {written.relative_to(ROOT)})")
