"""The gateway refuses the access tokens of ended sessions (DESIGN section 5): the list each
process keeps and how long it keeps an entry; catching up from identity when it starts, and
while the bus is away; SessionsEnded from the bus on the filesystem transport and RabbitMQ,
each process on a queue of its own that goes with it; the API and the pages alike. Identity
is a small fake HTTP server; the other services are closed ports."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from kombu import Queue

from contracts.bus.connection import BusAddress
from contracts.bus.topology import Topology
from contracts.events.codec import encode
from contracts.events.envelope import Event
from contracts.runtime import background
from contracts.runtime.auth import TokenVerifier
from contracts.runtime.settings import ConfigurationError
from contracts.testing.bus import wait_until
from contracts.testing.serving import serving
from gateway import create_app
from gateway.config import SERVICES, GatewaySettings
from gateway.ended_sessions import EndedSessions, session_of

ISSUER = "http://127.0.0.1:8000"
ENDED_PATH = "/internal/v1/sessions/ended"
ENDED_EN = "Your session has ended. Sign in again."
ENDED_FR = "Votre session a pris fin. Connectez-vous à nouveau."


# --- the list of ended sessions ---------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def jwt_with(claims: dict[str, Any]) -> str:
    """A token shaped like a JWT, unsigned: the list reads ``sid`` without the signature."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'EdDSA'})}.{part(claims)}.c2lnbmF0dXJl"


def test_an_ended_session_is_refused_until_its_last_token_has_expired() -> None:
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    clock = Clock(start)
    ended = EndedSessions(timedelta(minutes=16), clock=clock)
    assert not ended.refuses(jwt_with({"sid": "s-1"}))
    ended.add(["s-1", "s-2"], start)
    ended.add(["s-3"], start - timedelta(minutes=17))  # every token of it expired already
    assert len(ended) == 2
    assert ended.refuses(jwt_with({"sid": "s-1", "sub": "a-1"}))
    assert ended.has_ended("s-2") and not ended.has_ended("s-3")
    assert not ended.refuses(jwt_with({"sid": "s-4"}))
    assert not ended.refuses(jwt_with({"sub": "a client without a session"}))
    clock.now = start + timedelta(minutes=16) - timedelta(seconds=1)
    assert ended.has_ended("s-1") and ended.prune() == 0
    clock.now = start + timedelta(minutes=16)
    assert not ended.has_ended("s-1")  # whether pruned yet or not
    assert ended.prune() == 2 and len(ended) == 0
    # ended again later (a second announcement): kept for the later of the two
    ended.add(["s-5"], clock.now)
    ended.add(["s-5"], clock.now - timedelta(minutes=10))
    clock.now += timedelta(minutes=15)
    assert ended.has_ended("s-5")


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "a.b", "a.!!!.c", "a.bm90IGpzb24.c", jwt_with({"sid": 42}), "a.W10.c"],
)
def test_a_token_that_is_not_a_jwt_with_a_sid_names_no_session(token: str) -> None:
    assert session_of(token) is None


# --- a fake identity, and gateways to stop afterwards -----------------------------------------


@dataclass
class FakeIdentity:
    """Answers the list of sessions ended lately from ``ended`` (or with ``status``), and
    records the query and the caller's token of each call."""

    url: str = ""
    ended: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    calls: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def app(self) -> Flask:
        app = Flask("fake-identity")

        @app.get(ENDED_PATH)
        def ended() -> Response:
            self.calls.append((dict(request.args), request.headers.get("Authorization", "")))
            response = jsonify({"sessions": list(self.ended)})
            response.status_code = self.status
            return response

        return app

    def end(self, session_id: str, ago: timedelta = timedelta(0)) -> None:
        moment = datetime.now(UTC) - ago
        self.ended.append({"session_id": session_id, "ended_at": moment.isoformat()})


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def make_gateway(tmp_path: Path, identity: FakeIdentity) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []
    closed = {f"{name.upper()}_URL": f"http://127.0.0.1:{closed_port()}" for name in SERVICES}

    def make(**environ: str) -> Flask:
        env = {
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "PUBLIC_URL": ISSUER,
            "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
            **closed,
            "IDENTITY_URL": identity.url,
            **environ,
        }
        app = create_app(GatewaySettings.from_env(env))
        apps.append(app)
        return app

    yield make
    for app in apps:
        events(app).stop()


def events(app: Flask) -> Any:
    return app.extensions["nexam.gateway"]["session_events"]


def token_for(app: Flask, session_id: str) -> str:
    minter = app.extensions["nexam.gateway"]["minter"]
    return str(
        minter.mint(
            subject="a-1",
            roles=["candidate"],
            institution=None,
            amr=["pwd", "otp"],
            lifetime=timedelta(minutes=15),
            extra={"sid": session_id},
        )
    )


def dashboard(app: Flask, session_id: str, language: str = "en") -> Any:
    return app.test_client().get(
        "/api/v1/dashboard",
        headers={
            "Authorization": f"Bearer {token_for(app, session_id)}",
            "Accept-Language": language,
        },
    )


def assert_refused(answer: Any, message: str = ENDED_EN) -> None:
    assert answer.status_code == 401
    assert answer.json == {"error": "invalid_token", "message": message}
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="nexam"'


# --- catching up from identity ----------------------------------------------------------------


def test_a_gateway_that_starts_catches_up_from_identity(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    ended, live = str(uuid.uuid4()), str(uuid.uuid4())
    identity.end(ended, ago=timedelta(minutes=3))
    app = make_gateway()
    wait_until(events(app).caught_up.is_set, 10, "the gateway to read identity's list")
    assert_refused(dashboard(app, ended))
    assert_refused(dashboard(app, ended, "fr"), ENDED_FR)
    # a live session goes on to the exams service (a closed port here: 503)
    assert dashboard(app, live).status_code == 503
    query, authorization = identity.calls[0]
    assert query == {"within_seconds": str(15 * 60 + 60)}
    # the gateway's own service token, as identity checks it
    jwks = app.test_client().get("/.well-known/jwks.json").json
    claims = TokenVerifier(ISSUER, "nexam", jwks=jwks).verify(authorization.split()[1])
    assert claims.roles == ("gateway",)


def test_a_stopped_gateway_listens_no_more(make_gateway: Callable[..., Flask]) -> None:
    """Once the process's background threads are stopped, its listener has left the bus."""
    app = make_gateway()
    wait_until(events(app).listening.is_set, 10, "the listener on the bus")
    background.stop_all()
    assert not events(app).listening.is_set()


def test_identity_away_at_start_is_asked_again(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    identity.status = 503
    app = make_gateway()
    wait_until(lambda: len(identity.calls) >= 1, 10, "a first try")
    assert not events(app).caught_up.is_set()
    session_id = str(uuid.uuid4())
    identity.end(session_id)
    identity.status = 200
    wait_until(events(app).caught_up.is_set, 15, "the gateway to read identity's list")
    assert_refused(dashboard(app, session_id))


def test_without_the_bus_the_gateway_serves_and_asks_identity(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    app = make_gateway(BUS_URL=f"amqp://nexam:pw@127.0.0.1:{closed_port()}//")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    wait_until(lambda: len(identity.calls) >= 1, 10, "identity to be asked")
    session_id = str(uuid.uuid4())
    identity.end(session_id)  # ended while the bus is away
    wait_until(lambda: dashboard(app, session_id).status_code == 401, 15, "the refusal")
    assert not events(app).listening.is_set()


# --- SessionsEnded from the bus ---------------------------------------------------------------


def sessions_ended(session_ids: list[str]) -> str:
    event = Event(
        type="SessionsEnded",
        version=1,
        producer="identity",
        data={
            "account_id": uuid.uuid4(),
            "session_ids": [uuid.UUID(s) for s in session_ids],
            "reason": "signed_out",
            "ended_at": datetime.now(UTC),
        },
    )
    return json.dumps(encode(event))


def publish(bus: BusAddress, topology: Topology, body: str) -> None:
    with bus.connect() as connection:
        connection.Producer().publish(
            body,
            exchange=topology.events_exchange,
            routing_key="identity.SessionsEnded",
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )


def test_sessions_ended_reach_every_gateway_process_over_the_bus(
    make_gateway: Callable[..., Flask], bus_url: str, tmp_path: Path
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology.for_namespace(namespace)
    bus = BusAddress(bus_url, tmp_path / "var")
    first, second = (make_gateway(BUS_URL=bus_url, BUS_NAMESPACE=namespace) for _ in range(2))
    try:
        for app in (first, second):
            wait_until(events(app).listening.is_set, 15, "the gateway to listen")
        session_id = str(uuid.uuid4())
        publish(bus, topology, json.dumps({"not": "an event"}))  # ignored, never stuck
        publish(bus, topology, sessions_ended([session_id]))
        for app in (first, second):
            wait_until(lambda a=app: dashboard(a, session_id).status_code == 401, 5, "refusal")
        assert_refused(dashboard(first, session_id))
        queues = [events(app).queue_name for app in (first, second)]
        assert all(queues) and queues[0] != queues[1]
        for app in (first, second):
            events(app).stop()
        # nothing stays behind for processes that are gone
        with bus.connect() as connection:
            if bus.is_filesystem:
                table = connection.default_channel.get_table(topology.events_exchange_name)
                assert {b.queue for b in table} & set(queues) == set()
                assert list((bus.folder / "control").glob("*.lease")) == []
            else:
                wait_until(
                    lambda: not any(_exists(connection, q) for q in queues), 10, "queues gone"
                )
    finally:
        if not bus.is_filesystem:
            with bus.connect() as connection:
                topology.events_exchange(connection.default_channel).delete()


def _exists(connection: Any, queue: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:  # NOT_FOUND closes the channel
        return False
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def test_the_filesystem_queue_of_a_dead_process_is_dropped(
    make_gateway: Callable[..., Flask], tmp_path: Path
) -> None:
    bus = BusAddress(f"filesystem://{tmp_path / 'bus'}", tmp_path)
    topology = Topology()
    control = bus.folder / "control"
    dead, alive = "gateway.4242-deadbeef0000", "gateway.4343-a11ve0000000"
    with bus.connect() as connection:
        channel = connection.default_channel
        for name in (dead, alive):
            Queue(name, topology.events_exchange, routing_key="identity.SessionsEnded")(
                channel
            ).declare()
        publish(bus, topology, sessions_ended([str(uuid.uuid4())]))
        assert channel._size(dead) == 1
    (control / f"{dead}.lease").touch()  # its process died: nobody holds the lock
    with open(control / f"{alive}.lease", "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        app = make_gateway()
        wait_until(events(app).listening.is_set, 15, "the gateway to listen")
        with bus.connect() as connection:
            channel = connection.default_channel
            queues = {b.queue for b in channel.get_table(topology.events_exchange_name)}
            assert dead not in queues and alive in queues
            assert channel._size(dead) == 0 and channel._size(alive) == 1
        assert not (control / f"{dead}.lease").exists()


# --- the pages -------------------------------------------------------------------------------


def test_the_pages_take_an_ended_session_for_signed_out(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    session_id = str(uuid.uuid4())
    identity.end(session_id)
    app = make_gateway()
    wait_until(events(app).caught_up.is_set, 10, "the gateway to read identity's list")
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["auth"] = {
            "access": token_for(app, session_id),
            "refresh": "r",
            "expires_at": int(datetime.now(UTC).timestamp()) + 600,
        }
    relayed = client.get("/app/api/v1/dashboard")
    assert relayed.status_code == 401 and relayed.json["error"] == "signed_out"
    with client.session_transaction() as cookie:
        assert "auth" not in cookie
    assert client.get("/tableau-de-bord").headers["Location"].endswith("/connexion")


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bus_url", [None, "filesystem://", "amqp://guest:guest@rabbit//", "amqp://rabbit//"]
)
def test_prod_refuses_a_bus_without_credentials_of_its_own(
    tmp_path: Path, bus_url: str | None
) -> None:
    environ = {
        "NEXAM_ENV": "prod",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "PUBLIC_URL": "https://exams.example.org",
        "GATEWAY_SIGNING_KEY": str(tmp_path / "gateway.pem"),
        "GATEWAY_SESSION_KEY_FILE": str(tmp_path / "session.key"),
    }
    if bus_url is not None:
        environ["BUS_URL"] = bus_url
    with pytest.raises(ConfigurationError, match="BUS_URL"):
        GatewaySettings.from_env(environ)
