"""``nexam invite``: a roster file (CSV or JSON list), or one candidate given by options;
and ``nexam batch``, the progress of a roster."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nexam_cli import render
from nexam_cli.client import Batch, Invitation, RejectedRow
from nexam_cli.polling import follow_hint, wait_for_batch
from nexam_cli.state import State, current

#: exit statuses: everything done; some rows rejected; usage or API error; interrupted
OK, SOME_REJECTED, FAILED, INTERRUPTED = 0, 1, 2, 130
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
F = TypeVar("F", bound=Callable[..., Any])
SINGLE_OPTIONS = {
    "email": "--email",
    "first_name": "--first-name",
    "last_name": "--last-name",
    "evaluation_ref": "--evaluation-ref",
    "evaluation_name": "--evaluation-name",
}


def roster_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in CONTENT_TYPES:
        return suffix
    raise click.UsageError(
        f"Cannot tell the format of {click.format_filename(str(path))!r} from its name; "
        "add --format csv or --format json."
    )


def read_roster_file(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from None


def show_rejected(state: State, rejected: list[RejectedRow]) -> None:
    render.say(f"\nRejected rows ({len(rejected)}): fix them and send only those rows again.")
    state.out.print(render.rejected_table(rejected))


def report_batch(state: State, batch: Batch, *, as_json: bool) -> int:
    if as_json:
        render.echo_json(batch)
    else:
        state.out.print(render.batch_summary(batch))
        if batch["rejected"]:
            show_rejected(state, batch["rejected"])
    return SOME_REJECTED if batch["rejected"] else OK


def follow(
    ctx: click.Context,
    state: State,
    batch_id: uuid.UUID | str,
    *,
    interval: float,
    max_wait: float | None,
) -> Batch:
    """Poll with a progress bar on stderr; on Ctrl-C, say how to pick it up again."""
    client = state.client()
    first = client.batch(batch_id)
    if first["status"] != "processing":
        return first

    def stalled(seconds: float) -> None:
        render.warn(
            f"No row processed for {seconds:.0f} s: is the invitations worker running? "
            "Still waiting (Ctrl-C to stop; the batch is kept)."
        )

    try:
        with render.BatchProgress(state.err, first["accepted"]) as progress:
            return wait_for_batch(
                client,
                batch_id,
                on_progress=progress.update,
                on_stall=stalled,
                interval=interval,
                max_wait=max_wait,
            )
    except KeyboardInterrupt:
        render.warn(follow_hint(batch_id))
        ctx.exit(INTERRUPTED)


def wait_options(command: F) -> F:
    command = click.option(
        "--interval",
        type=click.FloatRange(min=0.05),
        default=0.5,
        show_default=True,
        help="Seconds between two looks at the batch.",
    )(command)
    return click.option(
        "--max-wait",
        type=click.FloatRange(min=0),
        default=None,
        help="Give up waiting after this many seconds (exit 2); the batch goes on.",
    )(command)


@click.command()
@click.argument(
    "roster",
    required=False,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(CONTENT_TYPES), case_sensitive=False),
    help="The roster's format when its name does not end in .csv or .json.",
)
@click.option("--no-wait", is_flag=True, help="Return right after the upload, with the batch id.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--email", help="One candidate: their email address.")
@click.option("--first-name", help="One candidate: first name.")
@click.option("--last-name", help="One candidate: last name.")
@click.option("--evaluation-ref", help="The institution's reference of the evaluation.")
@click.option("--evaluation-name", help="The evaluation's name, as candidates see it.")
@click.option("--language", help="The candidate's language: en (default) or fr.")
@wait_options
@click.pass_context
def invite(
    ctx: click.Context,
    roster: Path | None,
    fmt: str | None,
    no_wait: bool,
    as_json: bool,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    evaluation_ref: str | None,
    evaluation_name: str | None,
    language: str | None,
    interval: float,
    max_wait: float | None,
) -> None:
    """Invite the candidates of ROSTER (CSV with a header row, or a JSON list), or one
    candidate given by the options.

    \b
    The CSV's header names the columns:
      email,first_name,last_name,evaluation_ref,evaluation_name[,language]
    Bad rows are listed with their row number and field; the others are invited.
    Exit status: 0 every row accepted, 1 some rows rejected, 2 usage or API error.

    \b
    Examples:
      nexam invite roster.csv
      nexam invite --email ada@example.org --first-name Ada --last-name Lovelace \\
          --evaluation-ref MATH101-FINAL-2026 --evaluation-name "Mathematics final"
    """
    state = current()
    single = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "evaluation_ref": evaluation_ref,
        "evaluation_name": evaluation_name,
    }
    if roster is None:
        if fmt or no_wait:
            raise click.UsageError("--format and --no-wait apply to a roster file.")
        missing = [SINGLE_OPTIONS[k] for k, v in single.items() if v is None]
        if len(missing) == len(SINGLE_OPTIONS) and language is None:
            raise click.UsageError(
                "Give a roster file, or one candidate with --email, --first-name, "
                "--last-name, --evaluation-ref and --evaluation-name."
            )
        if missing:
            raise click.UsageError("To invite one candidate, also give " + ", ".join(missing))
        ctx.exit(invite_one(state, single, language, as_json=as_json))
    if any(v is not None for v in single.values()) or language is not None:
        raise click.UsageError("Give either a roster file or one candidate's options, not both.")

    kind = roster_format(roster, fmt.lower() if fmt else None)
    content = read_roster_file(roster)
    client = state.client()
    accepted = client.upload_roster(content, CONTENT_TYPES[kind])
    batch_id = accepted["batch_id"]
    rejected = accepted["rejected"]
    code = SOME_REJECTED if rejected else OK
    name = "stdin" if str(roster) == "-" else click.format_filename(str(roster))
    if no_wait:
        if as_json:
            render.echo_json(accepted)
        else:
            render.say(
                f"Batch {batch_id}: {accepted['accepted']} rows accepted, {len(rejected)} rejected."
            )
            if rejected:
                show_rejected(state, rejected)
            render.warn(follow_hint(batch_id))
        ctx.exit(code)
    render.warn(
        f"Uploaded {render.clean(name)}: batch {batch_id}, {accepted['accepted']} rows accepted, "
        f"{len(rejected)} rejected."
    )
    batch = follow(ctx, state, batch_id, interval=interval, max_wait=max_wait)
    ctx.exit(report_batch(state, batch, as_json=as_json))


def invite_one(
    state: State, single: dict[str, str | None], language: str | None, *, as_json: bool
) -> int:
    body: dict[str, object] = {
        "email": single["email"],
        "first_name": single["first_name"],
        "last_name": single["last_name"],
        "evaluation": {"ref": single["evaluation_ref"], "name": single["evaluation_name"]},
    }
    if language is not None:
        body["language"] = language
    invitation, created = state.client().invite(body)
    if as_json:
        render.echo_json(invitation)
    else:
        render.say(describe_invite(invitation, created))
    return OK


def describe_invite(invitation: Invitation, created: bool) -> str:
    who = render.clean(invitation["email"])
    ref = render.clean(invitation["evaluation"]["ref"])
    if not created:
        return (
            f"{who} is already invited to {ref} (status {render.clean(invitation['status'])}); "
            f"nothing sent. Invitation {invitation['id']}."
        )
    if invitation["status"] == "enrolled":
        return (
            f"{who} already has an account: enrolled in {ref} and told to sign in. "
            f"Invitation {invitation['id']}."
        )
    return (
        f"Invited {who} to {ref}: code sent by email, valid until "
        f"{render.when(invitation.get('expires_at'))}. Invitation {invitation['id']}."
    )


@click.command()
@click.argument("batch_id", type=click.UUID)
@click.option("--wait", is_flag=True, help="Follow the batch until every row is processed.")
@click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
@wait_options
@click.pass_context
def batch(
    ctx: click.Context,
    batch_id: uuid.UUID,
    wait: bool,
    as_json: bool,
    interval: float,
    max_wait: float | None,
) -> None:
    """The progress of a roster: rows processed, issued, enrolled, skipped, rejected.

    Exit status: 0 no row rejected, 1 some rows rejected, 2 usage or API error.
    """
    state = current()
    if wait:
        result = follow(ctx, state, batch_id, interval=interval, max_wait=max_wait)
    else:
        result = state.client().batch(batch_id)
    ctx.exit(report_batch(state, result, as_json=as_json))
