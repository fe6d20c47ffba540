"""The gateway as its users see it: the signing key and its JWKS, forwarding to real HTTP
upstreams (local servers on ephemeral ports), failures of those upstreams, the merged OpenAPI
document and the dev-token command."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from contracts.runtime.auth import TokenVerifier
from contracts.runtime.settings import ConfigurationError
from contracts.testing.serving import closed_port_url
from gateway import create_app
from gateway.config import SERVICES, GatewaySettings
from gateway.keys import public_jwk

KEY_FILE = Path("keys") / "gateway-ed25519.pem"
#: where a gateway that starts reads the sessions identity ended lately
ENDED_SESSIONS = "/internal/v1/sessions/ended"


# --- helpers: real upstreams ----------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    raw_uri: str
    query_string: bytes
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    """A real HTTP server that records what it receives and answers from ``routes`` (path ->
    (status, headers, body)), or with a JSON echo."""

    routes: dict[str, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == ENDED_SESSIONS:  # the gateway catching up, not what tests watch
            answer = Response(json.dumps({"sessions": []}), content_type="application/json")
            return answer(environ, start_response)
        self.seen.append(
            Seen(
                method=request.method,
                path=request.path,
                raw_uri=environ.get("RAW_URI") or environ.get("REQUEST_URI", ""),
                query_string=request.query_string,
                headers=dict(request.headers.items()),
                body=request.get_data(),
            )
        )
        if request.path in self.routes:
            status, headers, body = self.routes[request.path]
            response = Response(body, status=status, headers=headers)
        else:
            response = Response(
                json.dumps({"echo": request.path}), status=201, content_type="application/json"
            )
            response.headers["X-Upstream"] = "invitations"
            response.headers.add("Set-Cookie", "a=1; Path=/")
            response.headers.add("Set-Cookie", "b=2; Path=/")
        return response(environ, start_response)


@pytest.fixture
def start_upstream() -> Iterator[Callable[[], Upstream]]:
    servers = []

    def start() -> Upstream:
        upstream = Upstream()
        server = make_server("127.0.0.1", 0, upstream, threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        servers.append((server, thread))
        upstream.url = f"http://127.0.0.1:{server.server_port}"
        return upstream

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def silent_upstream_url() -> Iterator[str]:
    """Accepts connections (the kernel completes the handshake) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def make_gateway(var_dir: Path) -> Callable[..., Flask]:
    """A gateway whose upstreams are all closed ports unless the test says otherwise."""
    closed = {f"{name.upper()}_URL": closed_port_url() for name in SERVICES}

    def make(**environ: str) -> Flask:
        env = {"NEXAM_VAR_DIR": str(var_dir), **closed, **environ}
        return create_app(GatewaySettings.from_env(env))

    return make


def thumbprint(public: Ed25519PublicKey) -> tuple[str, str]:
    """(x, kid) computed here, independently of gateway.keys (RFC 8037 + RFC 7638)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}'
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=")
    return x, kid.decode()


def write_private_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key


def write_public_key(path: Path) -> Ed25519PublicKey:
    public = Ed25519PrivateKey.generate().public_key()
    path.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    session_key = tmp_path / "secrets" / "session.key"
    session_key.parent.mkdir(parents=True, exist_ok=True)
    session_key.write_text("7" * 64)
    return {
        "NEXAM_ENV": "prod",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "PUBLIC_URL": "https://exams.example.org",
        "GATEWAY_SESSION_KEY_FILE": str(session_key),
        # a broker account of its own; nothing listens there, and the gateway serves anyway
        "BUS_URL": f"amqp://nexam:pw@127.0.0.1:{closed_port_url().rsplit(':', 1)[1]}//",
        **extra,
    }


# --- the signing key and the JWKS -----------------------------------------------------------


def test_a_signing_key_is_generated_0600_and_reused(
    make_gateway: Callable[..., Flask], var_dir: Path
) -> None:
    first = make_gateway().test_client().get("/.well-known/jwks.json").json
    key_file = var_dir / KEY_FILE
    assert key_file.is_file()
    assert key_file.stat().st_mode & 0o777 == 0o600
    pem = key_file.read_bytes()
    # no temp file left beside the two keys made on first start
    assert sorted(p.name for p in key_file.parent.iterdir()) == [
        key_file.name,
        "gateway-session.key",
    ]

    second = make_gateway().test_client().get("/.well-known/jwks.json").json

    assert key_file.read_bytes() == pem
    assert second == first
    assert len(first["keys"]) == 1


def test_the_jwks_publishes_the_key_with_its_rfc7638_kid(
    make_gateway: Callable[..., Flask], var_dir: Path
) -> None:
    response = make_gateway().test_client().get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    private = serialization.load_pem_private_key((var_dir / KEY_FILE).read_bytes(), None)
    assert isinstance(private, Ed25519PrivateKey)
    x, kid = thumbprint(private.public_key())
    assert response.json == {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}]
    }


def test_the_kid_matches_the_rfc_8037_example() -> None:
    # RFC 8037 appendix A.2 (public key) and A.3 (its RFC 7638 thumbprint)
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert public_jwk(public)["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_previous_public_keys_stay_in_the_jwks(
    make_gateway: Callable[..., Flask], tmp_path: Path, var_dir: Path
) -> None:
    old_one = write_public_key(tmp_path / "old-1.pub.pem")
    old_two = write_public_key(tmp_path / "old-2.pub.pem")
    previous = f"{tmp_path / 'old-1.pub.pem'}, {tmp_path / 'old-2.pub.pem'}"

    keys = (
        make_gateway(GATEWAY_PREVIOUS_PUBLIC_KEYS=previous)
        .test_client()
        .get("/.well-known/jwks.json")
        .json["keys"]
    )

    current = serialization.load_pem_private_key((var_dir / KEY_FILE).read_bytes(), None)
    assert isinstance(current, Ed25519PrivateKey)
    expected = [thumbprint(k) for k in (current.public_key(), old_one, old_two)]
    assert [(k["x"], k["kid"]) for k in keys] == expected
    assert {(k["kty"], k["crv"], k["alg"]) for k in keys} == {("OKP", "Ed25519", "EdDSA")}


def test_prod_without_a_signing_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GATEWAY_SIGNING_KEY"):
        GatewaySettings.from_env(prod_env(tmp_path))


def test_prod_without_a_session_key_is_refused(tmp_path: Path) -> None:
    environ = prod_env(tmp_path, GATEWAY_SIGNING_KEY=str(tmp_path / "gateway.pem"))
    del environ["GATEWAY_SESSION_KEY_FILE"]
    with pytest.raises(ConfigurationError, match="GATEWAY_SESSION_KEY_FILE"):
        GatewaySettings.from_env(environ)


def test_prod_with_a_missing_key_file_refuses_to_start(tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "gateway.pem"
    settings = GatewaySettings.from_env(prod_env(tmp_path, GATEWAY_SIGNING_KEY=str(missing)))
    with pytest.raises(FileNotFoundError):
        create_app(settings)
    assert not missing.exists()  # nothing generated in its place
    assert not (tmp_path / "var" / KEY_FILE).exists()


def test_prod_with_its_key_file_serves_that_key(tmp_path: Path) -> None:
    key_path = tmp_path / "secrets" / "gateway.pem"
    private = write_private_key(key_path)
    app = create_app(
        GatewaySettings.from_env(prod_env(tmp_path, GATEWAY_SIGNING_KEY=str(key_path)))
    )
    keys = app.test_client().get("/.well-known/jwks.json").json["keys"]
    assert [k["kid"] for k in keys] == [thumbprint(private.public_key())[1]]


def test_the_gateway_is_alive_and_ready(make_gateway: Callable[..., Flask]) -> None:
    client = make_gateway().test_client()
    assert client.get("/healthz").json == {"status": "ok", "service": "gateway"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"signing_key": "ok"}


# --- forwarding -----------------------------------------------------------------------------


def test_a_request_reaches_its_service_and_the_answer_comes_back(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream]
) -> None:
    invitations = start_upstream()
    client = make_gateway(INVITATIONS_URL=invitations.url).test_client()

    response = client.post(
        "/api/v1/invitations?x=1&y=a%26b",
        data=b'{"email": "ada@example.org"}',
        headers={
            "Authorization": "Bearer abc.def.ghi",
            "Content-Type": "application/json",
            "Accept-Language": "fr",
            "Connection": "close, X-Hop-Secret",
            "X-Hop-Secret": "only-for-the-next-hop",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Forwarded-Host": "spoofed.example",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )

    assert len(invitations.seen) == 1
    seen = invitations.seen[0]
    assert seen.method == "POST"
    assert seen.path == "/api/v1/invitations"
    assert seen.query_string == b"x=1&y=a%26b"
    assert seen.body == b'{"email": "ada@example.org"}'
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["authorization"] == "Bearer abc.def.ghi"
    assert headers["content-type"] == "application/json"
    assert headers["accept-language"] == "fr"
    assert headers["host"] == invitations.url.removeprefix("http://")  # not the caller's Host
    for hop in ("x-hop-secret", "keep-alive", "te", "upgrade", "proxy-authorization"):
        assert hop not in headers, hop
    assert headers.get("connection", "keep-alive") == "keep-alive"  # the gateway's own hop
    assert headers["x-forwarded-for"] == "203.0.113.7"
    assert headers["x-forwarded-host"] == "localhost"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-request-id"]

    assert response.status_code == 201
    assert response.json == {"echo": "/api/v1/invitations"}
    assert response.headers.getlist("Content-Type") == ["application/json"]
    assert response.headers["X-Upstream"] == "invitations"
    assert response.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_every_method_is_forwarded(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream], method: str
) -> None:
    exams = start_upstream()
    client = make_gateway(EXAMS_URL=exams.url).test_client()
    response = client.open("/api/v1/exams/e-1/document", method=method, data=b"%PDF-1.7")
    assert response.status_code == 201
    assert [(s.method, s.path) for s in exams.seen] == [(method, "/api/v1/exams/e-1/document")]
    if method != "GET":
        assert exams.seen[0].body == b"%PDF-1.7"


def test_the_request_id_of_the_caller_is_kept_and_one_is_made_otherwise(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream]
) -> None:
    invitations = start_upstream()
    client = make_gateway(INVITATIONS_URL=invitations.url).test_client()
    client.get("/api/v1/invitations", headers={"X-Request-ID": "req-from-the-caller"})
    client.get("/api/v1/invitations")
    client.get("/api/v1/invitations")

    ids = [{k.lower(): v for k, v in s.headers.items()}["x-request-id"] for s in invitations.seen]
    assert ids[0] == "req-from-the-caller"
    assert ids[1] and ids[2] and ids[1] != ids[2]


def test_the_path_reaches_the_service_unchanged(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream]
) -> None:
    invitations = start_upstream()
    client = make_gateway(INVITATIONS_URL=invitations.url).test_client()

    response = client.get("/api/v1/invitations/a%20b%3Fc%23d%25e?status=pending")

    assert response.status_code == 201
    seen = invitations.seen[0]
    assert seen.path == "/api/v1/invitations/a b?c#d%e"
    assert seen.query_string == b"status=pending"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/invitations/../../../metrics",
        "/api/v1/invitations/%2e%2e/%2e%2e/%2e%2e/metrics",
        "/api/v1/invitations/x/../../sessions",
        "/api/v1/invitations/./x",
    ],
)
def test_dot_segments_cannot_leave_the_routed_prefix(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream], path: str
) -> None:
    invitations = start_upstream()
    response = make_gateway(INVITATIONS_URL=invitations.url).test_client().get(path)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert invitations.seen == []


def test_a_service_that_is_down_gives_503_at_once(make_gateway: Callable[..., Flask]) -> None:
    client = make_gateway(GATEWAY_READ_TIMEOUT="10").test_client()  # invitations: closed port
    started = time.monotonic()
    response = client.get("/api/v1/invitations")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json["error"] == "service_unavailable"
    assert response.json["message"]
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 2, f"took {elapsed:.1f} s"


def test_a_service_that_never_answers_gives_504(
    make_gateway: Callable[..., Flask], silent_upstream_url: str
) -> None:
    client = make_gateway(
        INVITATIONS_URL=silent_upstream_url, GATEWAY_READ_TIMEOUT="1"
    ).test_client()
    response = client.post("/api/v1/invitations", json={"email": "ada@example.org"})
    assert response.status_code == 504
    assert response.json["error"] == "gateway_timeout"
    assert response.json["message"]


class ResettingUpstream:
    """A service whose keep-alive ends just as the gateway reuses the connection: each
    connection's first request is answered (200, kept alive); a second request on it is read
    and the connection reset, unanswered. With ``silent``, nothing is ever answered."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.answered: list[str] = []
        self.reset: list[str] = []
        self.received: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            for turn in (1, 2):
                request = self._read_request(connection)
                if request is None:
                    return
                self.received.append(request)
                if self.silent:
                    connection.recv(1)  # until the gateway gives up and closes
                    return
                if turn == 2:
                    # SO_LINGER 0: the close is a reset, as a racing keep-alive close looks
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    self.reset.append(request)
                    return
                self.answered.append(request)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
                )

    @staticmethod
    def _read_request(connection: socket.socket) -> str | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += connection.recv(65536)
        return head.split(b"\r\n")[0].decode()


@pytest.fixture
def resetting_upstream() -> Iterator[Callable[..., ResettingUpstream]]:
    made: list[ResettingUpstream] = []

    def make(silent: bool = False) -> ResettingUpstream:
        made.append(ResettingUpstream(silent))
        return made[-1]

    yield make
    for upstream in made:
        upstream.close()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_idempotent_call_on_a_connection_the_service_closed_is_sent_again(
    make_gateway: Callable[..., Flask],
    resetting_upstream: Callable[..., ResettingUpstream],
    method: str,
) -> None:
    upstream = resetting_upstream()
    client = make_gateway(INVITATIONS_URL=upstream.url).test_client()
    first = client.open("/api/v1/invitations/abc", method=method, json={})
    second = client.open("/api/v1/invitations/abc", method=method, json={})
    assert (first.status_code, second.status_code) == (200, 200)
    # the second went out on the kept connection, was reset, and went again on a new one
    assert len(upstream.reset) == 1
    assert len(upstream.answered) == 2


def test_a_post_on_a_connection_the_service_closed_is_not_sent_again(
    make_gateway: Callable[..., Flask], resetting_upstream: Callable[..., ResettingUpstream]
) -> None:
    """The service may have acted on it before the reset: the caller decides."""
    upstream = resetting_upstream()
    client = make_gateway(INVITATIONS_URL=upstream.url).test_client()
    assert client.post("/api/v1/invitations", json={}).status_code == 200
    second = client.post("/api/v1/invitations", json={})
    assert second.status_code == 503
    assert second.json["error"] == "service_unavailable"
    assert second.headers["Retry-After"] == "5"
    assert len(upstream.received) == 2  # sent once each, never again


def test_an_idempotent_call_to_a_service_slow_to_answer_is_not_sent_again(
    make_gateway: Callable[..., Flask], resetting_upstream: Callable[..., ResettingUpstream]
) -> None:
    upstream = resetting_upstream(silent=True)
    client = make_gateway(INVITATIONS_URL=upstream.url, GATEWAY_READ_TIMEOUT="1").test_client()
    response = client.get("/api/v1/invitations")
    assert response.status_code == 504
    assert response.json["error"] == "gateway_timeout"
    assert len(upstream.received) == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere", "/api/v1/invitationsX", "/api/v1/invitations-bulk", "/api/v1/"]
)
def test_unknown_api_paths_are_404_json(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream], path: str
) -> None:
    upstream = start_upstream()
    everything_up = {f"{name.upper()}_URL": upstream.url for name in SERVICES}
    response = make_gateway(**everything_up).test_client().get(path)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert response.json["message"]
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/invitations", "invitations"),
        ("/api/v1/invitations/batches/b-1", "invitations"),
        ("/api/v1/sessions/two-factor", "identity"),
        ("/api/v1/me", "identity"),
        ("/api/v1/dashboard", "exams"),
        ("/api/v1/device-checks/latest", "devicecheck"),
    ],
)
def test_paths_go_to_the_service_that_owns_them(
    make_gateway: Callable[..., Flask],
    start_upstream: Callable[[], Upstream],
    path: str,
    service: str,
) -> None:
    upstreams = {name: start_upstream() for name in SERVICES}
    client = make_gateway(**{f"{n.upper()}_URL": u.url for n, u in upstreams.items()}).test_client()
    assert client.get(path).status_code == 201
    assert {n: [s.path for s in u.seen] for n, u in upstreams.items() if u.seen} == {
        service: [path]
    }


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "expected"),
    [
        ("0", "6.6.6.6", "10.0.0.5"),
        ("0", None, "10.0.0.5"),
        ("1", "6.6.6.6, 198.51.100.20", "198.51.100.20"),
        ("1", None, "10.0.0.5"),
        ("2", "6.6.6.6, 198.51.100.20", "6.6.6.6"),
        ("3", "198.51.100.20", "198.51.100.20"),
    ],
)
def test_x_forwarded_for_is_believed_only_through_trusted_proxies(
    make_gateway: Callable[..., Flask],
    start_upstream: Callable[[], Upstream],
    trusted: str,
    forwarded_for: str | None,
    expected: str,
) -> None:
    invitations = start_upstream()
    client = make_gateway(INVITATIONS_URL=invitations.url, TRUSTED_PROXIES=trusted).test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    client.get("/api/v1/invitations", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    seen = {k.lower(): v for k, v in invitations.seen[0].headers.items()}
    assert seen["x-forwarded-for"] == expected


# --- the merged OpenAPI document ------------------------------------------------------------


def _openapi(paths: dict[str, Any], schemas: dict[str, Any]) -> bytes:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "a service", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(document).encode()


def test_the_public_openapi_document_merges_what_each_service_owns(
    make_gateway: Callable[..., Flask], start_upstream: Callable[[], Upstream]
) -> None:
    operation = {"get": {"responses": {"200": {"description": "OK"}}}}
    json_type = [("Content-Type", "application/json")]
    invitations, identity = start_upstream(), start_upstream()
    invitations.routes["/openapi.json"] = (
        200,
        json_type,
        _openapi(
            {
                "/api/v1/invitations": operation,
                "/api/v1/invitations/{invitation_id}": operation,
                "/api/v1/sessions": operation,  # identity's, not invitations'
                "/healthz": operation,  # internal
            },
            {"Invitation": {"type": "object"}},
        ),
    )
    identity.routes["/openapi.json"] = (
        200,
        json_type,
        _openapi(
            {
                "/api/v1/sessions": operation,
                "/api/v1/me": operation,
                "/api/v1/invitationsX": operation,  # owned by no one
                "/metrics": operation,
            },
            {"Session": {"type": "object"}},
        ),
    )
    client = make_gateway(
        INVITATIONS_URL=invitations.url,
        IDENTITY_URL=identity.url,
        PUBLIC_URL="https://exams.example.org/",
    ).test_client()

    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json
    assert sorted(document["paths"]) == [
        "/api/v1/invitations",
        "/api/v1/invitations/{invitation_id}",
        "/api/v1/me",
        "/api/v1/oauth/token",
        "/api/v1/sessions",
        "/api/v1/sessions/refresh",
        "/api/v1/sessions/two-factor",
    ]
    assert document["paths"]["/api/v1/me"] == operation
    assert sorted(document["components"]["schemas"]) == ["Invitation", "Session", "Tokens"]
    assert document["components"]["schemas"]["Invitation"] == {"type": "object"}
    assert document["servers"] == [{"url": "https://exams.example.org"}]
    assert document["openapi"].startswith("3.")


def test_the_public_openapi_document_survives_services_that_are_down(
    make_gateway: Callable[..., Flask],
) -> None:
    response = make_gateway().test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    # only what the gateway serves itself
    assert sorted(response.json["paths"]) == [
        "/api/v1/oauth/token",
        "/api/v1/sessions/refresh",
        "/api/v1/sessions/two-factor",
    ]


# --- flask dev-token ------------------------------------------------------------------------


def test_dev_token_prints_a_token_the_services_accept(make_gateway: Callable[..., Flask]) -> None:
    app = make_gateway(PUBLIC_URL="http://127.0.0.1:8000")
    result = app.test_cli_runner().invoke(
        args=["dev-token", "--subject", "ada", "--role", "coordinator", "--institution", "i-9"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["token_type"] == "Bearer"

    jwks = app.test_client().get("/.well-known/jwks.json").json
    assert jwks == app.extensions["nexam.gateway"]["key"].jwks()
    verifier = TokenVerifier("http://127.0.0.1:8000", "nexam", jwks=jwks)
    claims = verifier.verify(printed["access_token"])
    assert claims.subject == "ada"
    assert claims.roles == ("coordinator",)
    assert claims.institution == "i-9"
    assert claims.raw["amr"] == ["dev"]
    assert claims.raw["exp"] - claims.raw["iat"] == 15 * 60


def test_dev_token_defaults_to_a_coordinator(make_gateway: Callable[..., Flask]) -> None:
    app = make_gateway()
    result = app.test_cli_runner().invoke(args=["dev-token"])
    assert result.exit_code == 0, result.output
    jwks = app.test_client().get("/.well-known/jwks.json").json
    claims = TokenVerifier("http://127.0.0.1:8000", "nexam", jwks=jwks).verify(
        json.loads(result.output)["access_token"]
    )
    assert claims.roles == ("coordinator",)


def test_dev_token_is_refused_in_prod(tmp_path: Path) -> None:
    key_path = tmp_path / "secrets" / "gateway.pem"
    write_private_key(key_path)
    app = create_app(
        GatewaySettings.from_env(prod_env(tmp_path, GATEWAY_SIGNING_KEY=str(key_path)))
    )
    result = app.test_cli_runner().invoke(args=["dev-token"])
    assert result.exit_code != 0
    assert "refused" in result.output
    assert "access_token" not in result.output
