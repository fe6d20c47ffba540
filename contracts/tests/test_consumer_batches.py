"""How a consumer hands a batch to handlers: in order, each event once, runs of a type to a
HandleMany handler together."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from contracts.bus import BusAddress, EventConsumer, HandleMany, Topology
from contracts.bus.tables import inbox_table
from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.events.examples import load_example
from contracts.runtime.database import make_engine, make_sessions


def event(event_type: str) -> Event:
    return decode({**load_example(event_type), "id": str(uuid.uuid4())})


def test_runs_of_a_type_go_together_in_order_and_duplicates_are_skipped(tmp_path: Path) -> None:
    metadata = MetaData()
    inbox = inbox_table(metadata)
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    metadata.create_all(engine)
    calls: list[tuple[str, list[str]]] = []

    def many(session: Session, events: Sequence[Event]) -> None:
        calls.append(("many", [str(e.id) for e in events]))

    def one(session: Session, e: Event) -> None:
        calls.append(("one", [str(e.id)]))

    consumer = EventConsumer(
        "svc",
        make_sessions(engine),
        inbox,
        {"InvitationIssued": HandleMany(many), "CodeExpired": one},
        BusAddress(f"filesystem://{tmp_path}/bus", tmp_path),
        Topology(subscriptions={}),
    )
    seen_before = event("InvitationIssued")
    consumer._handle_together([seen_before])
    calls.clear()
    a1, b1, a2, a3 = (
        event(t)
        for t in ("InvitationIssued", "CodeExpired", "InvitationIssued", "InvitationIssued")
    )
    outcomes = consumer._handle_together([a1, b1, a2, a2, seen_before, a3])
    assert outcomes == ["handled", "handled", "handled", "duplicate", "duplicate", "handled"]
    assert calls == [
        ("many", [str(a1.id)]),
        ("one", [str(b1.id)]),
        ("many", [str(a2.id), str(a3.id)]),
    ]
