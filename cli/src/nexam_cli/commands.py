"""The ``nexam`` command group: ``invite``, ``batch`` and ``invitations ...``."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nexam_cli import render
from nexam_cli.config import DEFAULT_TIMEOUT, DEFAULT_URL
from nexam_cli.errors import NexamError
from nexam_cli.invite import FAILED, batch, invite
from nexam_cli.state import State, current

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = ("pending", "activated", "expired", "revoked", "enrolled")


class NexamGroup(click.Group):
    """Shows every :class:`NexamError` (API answers, unreachable server, credentials) as a
    message on stderr with exit status 2, never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NexamError as problem:
            render.show_problem(problem)
            ctx.exit(FAILED)


@click.group(
    cls=NexamGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--url",
    envvar="NEXAM_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="The platform's address (env NEXAM_URL).",
)
@click.option(
    "--timeout",
    envvar="NEXAM_TIMEOUT",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for each answer (env NEXAM_TIMEOUT).",
)
@click.version_option(package_name="nexam-cli", prog_name="nexam")
@click.pass_context
def cli(ctx: click.Context, url: str, timeout: float) -> None:
    """Nexam for coordinators: invite candidates and follow their invitations.

    \b
    Credentials come from the environment:
      NEXAM_TOKEN                              an access token, or
      NEXAM_CLIENT_ID and NEXAM_CLIENT_SECRET  an API client's (nexam-admin api-client create)
    """
    state = State(url=url, timeout=timeout)
    ctx.obj = state
    ctx.call_on_close(state.close)


cli.add_command(invite)
cli.add_command(batch)


@cli.group("invitations")
def invitations_group() -> None:
    """List, inspect, resend, revoke and export invitations."""


def filter_options(command: F) -> F:
    for option in reversed(
        (
            click.option(
                "--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only these."
            ),
            click.option("--evaluation", metavar="REF", help="Only this evaluation's."),
            click.option("--email", help="Only this candidate's."),
        )
    ):
        command = option(command)
    return command


@invitations_group.command("list")
@filter_options
@click.option("--all", "every", is_flag=True, help="Follow every page, not just the first.")
@click.option(
    "--limit",
    type=click.IntRange(1, 200),
    help="Invitations per page: 50, or 200 with --all.",
)
@click.option("--cursor", help="Start from this page (printed when there are more).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of invitations.")
def list_invitations(
    status: str | None,
    evaluation: str | None,
    email: str | None,
    every: bool,
    limit: int | None,
    cursor: str | None,
    as_json: bool,
) -> None:
    """The institution's invitations, newest first."""
    state = current()
    client = state.client()
    filters = {
        "status": status.lower() if status else None,
        "evaluation": evaluation,
        "email": email,
    }
    next_cursor = None
    if every:
        items = list(client.invitations(**filters, cursor=cursor, limit=limit or 200))
    else:
        page = client.page(**filters, cursor=cursor, limit=limit or 50)
        items, next_cursor = page["items"], page.get("next_cursor")
    if as_json:
        render.echo_json(items)
    elif items:
        state.out.print(render.invitation_table(items, state.out.width))
    else:
        render.warn("No invitations match.")
    if next_cursor:
        render.warn(f"More invitations: add --all, or --cursor {next_cursor}")


@invitations_group.command("show")
@click.argument("invitation_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="Print the invitation as JSON.")
def show(invitation_id: uuid.UUID, as_json: bool) -> None:
    """One invitation."""
    state = current()
    invitation = state.client().invitation(invitation_id)
    if as_json:
        render.echo_json(invitation)
    else:
        state.out.print(render.invitation_details(invitation))


@invitations_group.command("resend")
@click.argument("invitation_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="Print the invitation as JSON.")
def resend(invitation_id: uuid.UUID, as_json: bool) -> None:
    """Send a new code, valid 30 days; the previous code stops working."""
    state = current()
    invitation = state.client().resend(invitation_id)
    if as_json:
        render.echo_json(invitation)
        return
    render.say(
        f"Sent {render.clean(invitation['email'])} a new invitation to "
        f"{render.clean(invitation['evaluation']['ref'])}, valid until "
        f"{render.when(invitation.get('expires_at'))}; the previous code no longer works."
    )


@invitations_group.command("revoke")
@click.argument("invitation_id", type=click.UUID)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the invitation as JSON.")
def revoke(invitation_id: uuid.UUID, yes: bool, as_json: bool) -> None:
    """Withdraw an invitation; its code stops working (asks first unless --yes)."""
    state = current()
    client = state.client()
    if not yes:
        invitation = client.invitation(invitation_id)
        click.confirm(
            f"Revoke the invitation of {render.clean(invitation['email'])} to "
            f"{render.clean(invitation['evaluation']['ref'])} "
            f"(status {render.clean(invitation['status'])})?",
            abort=True,
            err=True,
        )
    revoked = client.revoke(invitation_id)
    if as_json:
        render.echo_json(revoked)
        return
    render.say(
        f"Revoked the invitation of {render.clean(revoked['email'])} to "
        f"{render.clean(revoked['evaluation']['ref'])}; its code no longer works."
    )


@invitations_group.command("export")
@filter_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    default="-",
    help="Where to write the CSV (default: stdout).",
)
def export(status: str | None, evaluation: str | None, email: str | None, output: Path) -> None:
    """The institution's invitations as CSV (UTF-8, one header row)."""
    state = current()
    client = state.client()
    filters = {
        "status": status.lower() if status else None,
        "evaluation": evaluation,
        "email": email,
    }
    if str(output) == "-":
        sys.stdout.flush()
        client.export(sys.stdout.buffer, **filters)
        sys.stdout.buffer.flush()
        return
    # written next to the target and moved into place, so a failure leaves no half file
    folder = output.parent if str(output.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            client.export(out, **filters)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    with output.open(newline="", encoding="utf-8") as written:
        rows = max(sum(1 for _ in csv.reader(written)) - 1, 0)
    render.warn(f"Wrote {rows} invitations to {render.clean(click.format_filename(output))}.")
