"""Secrets at rest (DESIGN section 5): a field marked sensitive travels sealed from the
producer's outbox to the consumer, which alone sees it in clear; once the broker has acked
the event no plaintext copy stays in the outbox, the bus folder or a dead queue. Checked on
SQLite and PostgreSQL, on the filesystem transport and RabbitMQ."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from contracts.bus import Outbox
from contracts.bus.sealing import Sealer, is_sealed, open_sensitive, seal_sensitive
from contracts.events.codec import REDACTED, ContractViolation, decode, encode
from contracts.events.codes import new_code
from contracts.events.envelope import Event
from contracts.runtime.database import make_engine
from contracts.runtime.keyfiles import bus_sealer
from contracts.runtime.settings import ConfigurationError, ServiceSettings
from contracts.testing.bus import (
    EVENT_TYPE,
    POISON,
    BusWorld,
    WorldSpec,
    invitation_data,
    running,
    wait_until,
)
from contracts.testing.leaks import files_holding, forms_of

MakeWorld = Callable[..., "RecordingWorld"]


class RecordingWorld(BusWorld):
    """A bus world whose handler also keeps the code it was given."""

    seen_codes: list[str]

    def handle(self, session: Session, event: Event) -> None:
        super().handle(session, event)
        self.seen_codes.append(event.data["code"])


@pytest.fixture
def make_world(bus_url: str, tmp_path: Path) -> Iterator[MakeWorld]:
    worlds: list[BusWorld] = []

    def make(database_url: str | None = None, **options: Any) -> RecordingWorld:
        spec = WorldSpec(
            bus_url=bus_url,
            database_url=database_url or f"sqlite:///{tmp_path}/world.db",
            tag=uuid.uuid4().hex[:10],
            **options,
        )
        world = RecordingWorld.create(spec, tmp_path)
        world.seen_codes = []
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.tear_down()


def stage_invitation(world: BusWorld, code: str, first_name: str = "Ada") -> uuid.UUID:
    with world.sessions() as session, session.begin():
        data = invitation_data(first_name) | {"code": code}
        return world.outbox.add(session, EVENT_TYPE, data).id


def outbox_bodies(world: BusWorld) -> list[dict[str, Any]]:
    with world.engine.connect() as db:
        return list(db.scalars(select(world.outbox_table.c.body)))


def holds(text: str | bytes, secret: str) -> bool:
    raw = text.encode() if isinstance(text, str) else text
    return any(form in raw for form in forms_of(secret))


def test_after_the_ack_no_outbox_row_keeps_the_plaintext(
    make_world: MakeWorld, database_url: str
) -> None:
    world = make_world(database_url)
    code = new_code()
    stage_invitation(world, code)
    with running(world.relay().run), running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == 1, 30, "the event handled")
        wait_until(lambda: world.unsent() == 0, 10, "the row marked sent")
    assert world.seen_codes == [code], "the handler must see the code in clear"
    (body,) = outbox_bodies(world)
    assert not holds(json.dumps(body), code)
    assert body["data"]["code"] == REDACTED


def test_the_broker_only_ever_carries_the_sealed_value(make_world: MakeWorld) -> None:
    world = make_world()
    code = new_code()
    stage_invitation(world, code)
    assert not holds(json.dumps(outbox_bodies(world)), code), "sealed before it is stored"
    with running(world.relay().run):
        wait_until(lambda: world.unsent() == 0, 10, "the row published")
    with world.bus.connect() as connection:
        queue = world.topology.queue(world.spec.service)(connection.default_channel)
        message = queue.get(no_ack=True)
    assert message is not None
    assert not holds(message.body, code)


def test_a_dead_lettered_message_keeps_no_plaintext(make_world: MakeWorld) -> None:
    world = make_world(max_attempts=2)
    failing_code, invalid_code = new_code(), new_code()
    stage_invitation(world, failing_code, first_name=POISON)  # its handler always fails
    invalid = {  # a producer that skipped validation: a bad address, the code in clear
        "id": str(uuid.uuid4()),
        "type": EVENT_TYPE,
        "version": 1,
        "producer": "invitations",
        "occurred_at": "2026-11-21T09:00:00+00:00",
        "correlation_id": "c-1",
        "data": json.loads(json.dumps(invitation_data(), default=str))
        | {"email": "not an address", "code": invalid_code},
    }
    world.publish_raw(json.dumps(invalid).encode())
    dead: list[tuple[dict[str, Any], bytes]] = []
    with running(world.relay().run), running(world.consumer().run_until):
        wait_until(lambda: bool(dead.extend(world.take_dead())) or len(dead) >= 2, 30, "2 dead")
    assert len(dead) == 2
    for _headers, body in dead:
        assert not holds(body, failing_code) and not holds(body, invalid_code)
        assert json.loads(body)["data"]["code"] == REDACTED


def test_no_file_under_the_platform_folder_keeps_the_plaintext(
    tmp_path: Path, make_world: MakeWorld, bus_url: str
) -> None:
    if not bus_url.startswith("filesystem"):
        pytest.skip("the files of RabbitMQ's own store are not ours to read")
    world = make_world(f"sqlite:///{tmp_path}/world.db")
    codes = [new_code() for _ in range(20)]
    for code in codes:
        stage_invitation(world, code)
    needles = {form for code in codes for form in forms_of(code)}
    with running(world.relay().run):
        wait_until(lambda: world.unsent() == 0, 10, "every row acked and marked sent")
    messages = list((tmp_path / "bus").rglob("*.msg"))
    assert len(messages) == len(codes), "the events wait in the bus folder"
    assert len(files_holding(tmp_path / "bus", [b"sealed:v1:"])) == len(codes)  # bodies read
    leaks = files_holding(tmp_path, needles)
    assert leaks == [], "\n".join(f"{file}: {needle!r}" for file, needle in leaks)
    with running(world.consumer().run_until):
        wait_until(lambda: world.effect_counts()[1] == len(codes), 30, "every event handled")
    assert sorted(world.seen_codes) == sorted(codes)
    world.engine.dispose()
    leaks = files_holding(tmp_path, needles)
    assert leaks == [], "\n".join(f"{file}: {needle!r}" for file, needle in leaks)


def test_sqlite_zeroes_what_it_deletes_or_overwrites(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/any.db")
    try:
        with engine.connect() as db:
            assert db.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        engine.dispose()


def stage_sent_in_clear(world: BusWorld, code: str) -> None:
    """A row as an outbox wrote it, and a relay marked it, before sealing existed."""
    body = encode(Event(type=EVENT_TYPE, version=1, producer="invitations", data=invitation_data()))
    body["data"]["code"] = code
    with world.engine.begin() as db:
        db.execute(
            world.outbox_table.insert().values(
                event_id=uuid.UUID(body["id"]),
                routing_key=f"invitations.{EVENT_TYPE}",
                body=body,
                created_at=datetime.now(UTC),
                sent_at=datetime.now(UTC),
            )
        )


def test_the_relay_redacts_rows_sent_before_sealing_existed(
    make_world: MakeWorld, database_url: str
) -> None:
    world = make_world(database_url)
    stage_sent_in_clear(world, new_code())
    assert world.relay().redact_sent() == 1
    assert world.relay().redact_sent() == 0
    stage_sent_in_clear(world, new_code())
    stage_invitation(world, new_code())
    with running(world.relay().run):  # a relay starting does it once by itself
        wait_until(
            lambda: all(b["data"]["code"] == REDACTED for b in outbox_bodies(world)),
            10,
            "every row redacted",
        )
    assert len(outbox_bodies(world)) == 3


# -- sealing itself, no I/O --------------------------------------------------------------------


def _sealed(sealer: Sealer, code: str) -> dict[str, Any]:
    data = invitation_data() | {"code": code}
    body = encode(Event(type=EVENT_TYPE, version=1, producer="invitations", data=data))
    return seal_sensitive(body, sealer)


def test_a_sealed_field_opens_only_with_its_key_and_in_its_place() -> None:
    sealer, other = Sealer(b"k" * 32), Sealer(b"o" * 32)
    code = new_code()
    body = _sealed(sealer, code)
    assert is_sealed(body["data"]["code"]) and code not in json.dumps(body)
    assert open_sensitive(body, sealer)["data"]["code"] == code
    assert decode(open_sensitive(body, sealer)).data["code"] == code
    with pytest.raises(ContractViolation, match="key"):
        open_sensitive(body, other)
    with pytest.raises(ContractViolation, match="no sealing key"):
        open_sensitive(body, None)
    elsewhere = _sealed(sealer, new_code())  # moved to another event, it does not open
    elsewhere["data"]["code"] = body["data"]["code"]
    with pytest.raises(ContractViolation):
        open_sensitive(elsewhere, sealer)
    tampered = json.loads(json.dumps(body))
    value = tampered["data"]["code"]
    tampered["data"]["code"] = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(ContractViolation):
        open_sensitive(tampered, sealer)
    purpose = sealer.for_purpose("something else")
    assert purpose.key_id != sealer.key_id
    with pytest.raises(ContractViolation):
        open_sensitive(body, purpose)


def test_a_value_in_clear_is_still_received_and_nothing_else_changes() -> None:
    sealer = Sealer(b"k" * 32)
    body = encode(Event(type=EVENT_TYPE, version=1, producer="invitations", data=invitation_data()))
    assert open_sensitive(body, sealer) == body  # staged before sealing existed
    unsealed = encode(
        Event(
            type=EVENT_TYPE,
            version=1,
            producer="invitations",
            data=invitation_data() | {"code": None, "account_exists": True, "expires_at": None},
        )
    )
    assert seal_sensitive(unsealed, sealer) == unsealed  # nothing to seal


def test_an_outbox_without_a_sealer_refuses_a_secret(tmp_path: Path) -> None:
    metadata = MetaData()
    outbox = Outbox(metadata, "invitations")
    engine = make_engine(f"sqlite:///{tmp_path}/o.db")
    metadata.create_all(engine)
    try:
        with Session(engine) as session, session.begin():
            with pytest.raises(ContractViolation, match="sealer"):
                outbox.add(session, EVENT_TYPE, invitation_data())
            no_code = invitation_data() | {"code": None, "account_exists": True}
            outbox.add(session, EVENT_TYPE, no_code | {"expires_at": None})
    finally:
        engine.dispose()


def test_production_needs_the_sealing_key_file_and_elsewhere_one_is_made(tmp_path: Path) -> None:
    production = {
        "NEXAM_ENV": "prod",
        "INVITATIONS_DATABASE_URL": "postgresql+psycopg://nexam:pw@db.internal/invitations",
        "BUS_URL": "amqps://nexam:pw@rabbit.internal:5671/nexam",
        "PUBLIC_URL": "https://exams.example.org",
    }
    with pytest.raises(ConfigurationError, match="BUS_SEAL_KEY_FILE"):
        bus_sealer(ServiceSettings.from_env("invitations", production))
    key_file = tmp_path / "bus-seal.key"
    key_file.write_bytes(b"0123456789abcdef" * 4)
    named = ServiceSettings.from_env(
        "invitations", production | {"BUS_SEAL_KEY_FILE": str(key_file)}
    )
    assert bus_sealer(named).key_id == Sealer(b"0123456789abcdef" * 4).key_id
    # outside production every process of a workstation makes, then shares, one key
    dev = {"NEXAM_VAR_DIR": str(tmp_path / "var")}
    first = bus_sealer(ServiceSettings.from_env("identity", dev))
    assert (tmp_path / "var" / "keys" / "bus-seal.key").is_file()
    assert bus_sealer(ServiceSettings.from_env("notifier", dev)).key_id == first.key_id
