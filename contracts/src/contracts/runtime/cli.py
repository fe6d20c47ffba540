"""Flask CLI commands every service gets: ``flask --app <service> bus emit-example TYPE``
stages a golden example event in the service's outbox, to see the bus work end to end."""

from __future__ import annotations

import uuid

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.codec import decode
from contracts.events.schemas import CONTRACTS


def install_bus_commands(app: Flask, outbox: Outbox, sessions: sessionmaker[Session]) -> None:
    group = AppGroup("bus", help="Inspect and exercise the event bus.")
    produced = sorted(c.type for c in CONTRACTS if c.producer == outbox.producer)

    @group.command("emit-example")
    @click.argument("event_type", type=click.Choice(produced))
    def emit_example(event_type: str) -> None:
        """Stage the golden example of EVENT_TYPE (with a fresh id) in the outbox."""
        from contracts.events.examples import load_example

        data = decode(load_example(event_type)).data
        with sessions() as session, session.begin():
            event = outbox.add(session, event_type, data, correlation_id=str(uuid.uuid4()))
        click.echo(f"staged {event.type} {event.id}")

    app.cli.add_command(group)
