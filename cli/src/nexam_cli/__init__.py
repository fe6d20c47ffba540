"""``nexam``: the coordinator's command-line tool over the public API (DESIGN section 6).

It speaks to the platform only through HTTP (``NEXAM_URL``), like any other API client, and
imports nothing of the services' code."""

from __future__ import annotations

from nexam_cli.commands import cli

__all__ = ["cli", "main"]


def main() -> None:
    """The console script ``nexam``."""
    cli.main(prog_name="nexam")
