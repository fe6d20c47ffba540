"""What the tool shows: tables, the batch summary, the progress bar, problems. Text from the
server is shown as text (no markup, no emoji codes, no terminal control characters)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nexam_cli.client import Batch, Invitation, RejectedRow
from nexam_cli.errors import ApiProblem, NexamError

#: keys under which webargs nests validation errors by request location
LOCATIONS = ("json", "query", "form", "files", "headers", "path_params")
ROW_FIELDS = ("", "_row", "_schema")


#: the width of tables written to a file or a pipe (unless COLUMNS says otherwise): wide
#: enough that no column is cut, as a terminal's 80 columns would
PIPE_WIDTH = 1000


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout or stderr, made when a command runs."""
    out = Console(stderr=stderr, markup=False, highlight=False, emoji=False)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out.width = PIPE_WIDTH
    return out


def clean(value: object) -> str:
    """Text as it may reach a terminal: control characters become U+FFFD."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)


def when(value: str | None) -> str:
    """An RFC 3339 moment from the API, as ``2026-07-01 09:30 UTC``."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return clean(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def say(text: str) -> None:
    """A sentence on stdout, unwrapped (rich is for tables and the progress bar)."""
    click.echo(text)


def warn(text: str) -> None:
    """A sentence on stderr: progress notes, hints, problems."""
    click.echo(text, err=True)


def echo_json(data: Any) -> None:
    """JSON for scripts, on stdout, unstyled."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


def field_errors(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow's nested ``{field: [messages]}`` as (field path, message) pairs."""
    pairs: list[tuple[str, str]] = []
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            name = str(key) if not prefix or str(key) in ROW_FIELDS else f"{prefix}.{key}"
            pairs.extend(field_errors(value, name))
    elif isinstance(errors, list | tuple):
        for item in errors:
            if isinstance(item, Mapping | list | tuple):
                pairs.extend(field_errors(item, prefix))
            else:
                pairs.append((prefix, str(item)))
    else:
        pairs.append((prefix, str(errors)))
    return pairs


def field_label(name: str) -> str:
    return "(whole row)" if name in ROW_FIELDS else name


def rejected_table(rejected: Sequence[RejectedRow]) -> Table:
    table = Table(box=box.SIMPLE)
    table.add_column("Row", justify="right", no_wrap=True)
    table.add_column("Field", no_wrap=True)
    table.add_column("Problem", overflow="fold")
    for item in sorted(rejected, key=lambda r: r["row"]):
        for name, message in field_errors(item["errors"]) or [("", "Rejected.")]:
            table.add_row(str(item["row"]), clean(field_label(name)), clean(message))
    return table


def batch_summary(batch: Batch) -> Table:
    rejected = len(batch["rejected"])
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column()
    grid.add_row("Batch", "", clean(batch["batch_id"]))
    if batch["status"] == "processing":
        grid.add_row("Processing", f"{batch['processed']}/{batch['accepted']}", "rows done so far")
    else:
        grid.add_row("Status", "", clean(batch["status"]))
    grid.add_row("Rows", str(batch["total_rows"]), "in the file")
    grid.add_row("Accepted", str(batch["accepted"]), "")
    grid.add_row("  issued", str(batch["issued"]), "new invitations, each with a code by email")
    grid.add_row(
        "  enrolled", str(batch["enrolled"]), "already had an account: told to sign in instead"
    )
    grid.add_row("  skipped", str(batch["skipped"]), "already invited to that evaluation")
    grid.add_row("Rejected", str(rejected), "listed below" if rejected else "")
    return grid


#: below this many columns the list leaves out the name and the email's delivery
WIDE_TABLE = 150


def invitation_table(items: Iterable[Invitation], width: int) -> Table:
    """The list of invitations; on a narrow terminal, the columns that fit (``show`` or
    ``--json`` give everything)."""
    wide = width >= WIDE_TABLE
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("ID", no_wrap=True)
    table.add_column("Email", min_width=16, overflow="fold")
    if wide:
        table.add_column("Name", min_width=12, overflow="fold")
    table.add_column("Evaluation", min_width=10, overflow="fold")
    table.add_column("Status", no_wrap=True)
    if wide:
        table.add_column("Email sent", no_wrap=True)
    table.add_column("Expires", no_wrap=True)
    for item in items:
        expires = when(item.get("expires_at"))
        cells = [clean(item["id"]), clean(item["email"])]
        if wide:
            cells.append(clean(f"{item['first_name']} {item['last_name']}"))
        cells += [clean(item["evaluation"]["ref"]), clean(item["status"])]
        if wide:
            cells.append(clean(item["email_status"]))
        cells.append(expires if wide else expires[:10])
        table.add_row(*cells)
    return table


def invitation_details(item: Invitation) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    email_status = item["email_status"]
    if item.get("email_error"):
        email_status = f"{email_status} ({item['email_error']})"
    for label, value in (
        ("ID", clean(item["id"])),
        ("Email", clean(item["email"])),
        ("Name", clean(f"{item['first_name']} {item['last_name']}")),
        ("Language", clean(item["language"])),
        ("Evaluation", clean(f"{item['evaluation']['ref']} ({item['evaluation']['name']})")),
        ("Status", clean(item["status"])),
        ("Email status", clean(email_status)),
        ("Code valid until", when(item.get("expires_at"))),
        ("Batch", clean(item.get("batch_id") or "-")),
        ("Created", when(item.get("created_at"))),
        ("Updated", when(item.get("updated_at"))),
    ):
        grid.add_row(label, value)
    return grid


def show_problem(problem: NexamError) -> None:
    """A failure as the API's own message, with the details that help fix it."""
    warn(f"Error: {clean(problem.message)}")
    if not isinstance(problem, ApiProblem):
        return
    details = dict(problem.details)
    errors = details.pop("errors", None)
    if errors is not None:
        if isinstance(errors, Mapping) and len(errors) == 1 and next(iter(errors)) in LOCATIONS:
            errors = next(iter(errors.values()))
        for name, message in field_errors(errors):
            warn(f"  {clean(name or 'request')}: {clean(message)}")
    for key in ("missing", "unknown"):
        values = details.pop(key, None)
        if values:
            warn(f"  {key} columns: {clean(', '.join(str(v) for v in values))}")
    for key, value in details.items():
        warn(f"  {clean(key)}: {clean(value)}")
    if problem.status == 401:
        warn(
            "  Check NEXAM_TOKEN (access tokens last minutes), or use NEXAM_CLIENT_ID and "
            "NEXAM_CLIENT_SECRET."
        )


class BatchProgress:
    """A progress bar of a batch's rows: processed out of accepted."""

    def __init__(self, console: Console, total: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            console=console,
        )
        self._task = self._progress.add_task("Inviting", total=total)

    def __enter__(self) -> BatchProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, batch: Batch) -> None:
        done = batch["status"] != "processing"
        self._progress.update(
            self._task,
            total=batch["accepted"],
            completed=batch["processed"],
            description="Done" if done else "Inviting",
        )
