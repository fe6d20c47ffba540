"""Verifying gateway-signed access tokens: a real Ed25519 key, a real JWKS served over HTTP,
and every way a forged or stale token must be turned away."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask, g

from contracts.runtime import background
from contracts.runtime.app import create_base_app
from contracts.runtime.auth import InvalidToken, TokenVerifier, require_token
from contracts.testing.bus import wait_until
from gateway.keys import SigningKey, load_signing_key
from gateway.tokens import mint_access_token

ISSUER = "https://exams.example.org"
AUDIENCE = "nexam"


class JwksServer:
    """A JWKS endpoint on an ephemeral port whose key set the test can change, counting hits."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return load_signing_key(tmp_path / "keys" / "current.pem", generate=True)


@pytest.fixture
def other_key(tmp_path: Path) -> SigningKey:
    return load_signing_key(tmp_path / "keys" / "other.pem", generate=True)


@pytest.fixture
def jwks_server(key: SigningKey) -> Iterator[JwksServer]:
    with JwksServer(key.jwks()) as server:
        yield server


@pytest.fixture(params=["jwks_url", "static_jwks"])
def verifier(request: pytest.FixtureRequest, key: SigningKey) -> TokenVerifier:
    """The same checks through a JWKS fetched over HTTP and through a JWKS given in code."""
    if request.param == "jwks_url":
        server: JwksServer = request.getfixturevalue("jwks_server")
        return TokenVerifier(ISSUER, AUDIENCE, jwks_url=server.url)
    return TokenVerifier(ISSUER, AUDIENCE, jwks=key.jwks())


def mint(key: SigningKey, **overrides: Any) -> str:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "subject": "user-42",
        "roles": ["coordinator"],
        "institution": "inst-1",
        "amr": ["pwd", "otp"],
        "lifetime": timedelta(minutes=15),
    }
    options.update(overrides)
    return mint_access_token(key, **options)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now,
        "exp": now + 900,
        "jti": str(uuid.uuid4()),
        "roles": ["coordinator"],
        "institution": "inst-1",
        "amr": ["pwd"],
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


def sign(key: SigningKey, payload: dict[str, Any], kid: str | None = None) -> str:
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": kid or key.kid})


# --- what a valid token gives ---------------------------------------------------------------


def test_a_valid_token_verifies_with_its_claims(verifier: TokenVerifier, key: SigningKey) -> None:
    token = mint(key, roles=["coordinator", "admin"])

    verified = verifier.verify(token)

    assert verified.subject == "user-42"
    assert verified.roles == ("coordinator", "admin")
    assert verified.institution == "inst-1"
    assert verified.has_role("admin") and not verified.has_role("candidate")
    assert verified.raw["iss"] == ISSUER
    assert verified.raw["aud"] == AUDIENCE
    assert verified.raw["amr"] == ["pwd", "otp"]
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_a_verifier_needs_exactly_one_key_source(key: SigningKey) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(ISSUER, AUDIENCE)
    with pytest.raises(ValueError):
        TokenVerifier(ISSUER, AUDIENCE, jwks_url="http://127.0.0.1:1/jwks", jwks=key.jwks())


# --- what must be refused -------------------------------------------------------------------


def test_alg_none_is_refused(verifier: TokenVerifier, key: SigningKey) -> None:
    unsigned = f"{_b64json({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{_b64json(claims())}."
    with pytest.raises(InvalidToken):
        verifier.verify(unsigned)
    # also with PyJWT's own rendering of an unsigned token
    also_unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": key.kid})
    with pytest.raises(InvalidToken):
        verifier.verify(also_unsigned)


@pytest.mark.parametrize("secret_form", ["pem", "raw"])
def test_hs256_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, key: SigningKey, secret_form: str
) -> None:
    """The classic key-confusion attack: the public key, which everyone has, used as an HMAC
    secret."""
    public = key.private_key.public_key()
    secret = (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if secret_form == "pem"
        else public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    signing_input = (
        f"{_b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{_b64json(claims())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        verifier.verify(f"{signing_input}.{_b64(signature)}")


def test_an_expired_token_is_refused(verifier: TokenVerifier, key: SigningKey) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(InvalidToken):
        verifier.verify(mint(key, now=an_hour_ago))


def test_a_token_for_another_audience_is_refused(verifier: TokenVerifier, key: SigningKey) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(mint(key, audience="someone-else"))


def test_a_token_from_another_issuer_is_refused(verifier: TokenVerifier, key: SigningKey) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(mint(key, issuer="https://evil.example.org"))


def test_a_token_signed_by_an_unknown_key_is_refused(
    verifier: TokenVerifier, other_key: SigningKey, key: SigningKey
) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(mint(other_key))  # its own kid, absent from the JWKS
    with pytest.raises(InvalidToken):
        verifier.verify(sign(other_key, claims(), kid=key.kid))  # a known kid, wrong signature
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims(), kid="no-such-kid"))


def test_a_tampered_payload_is_refused(verifier: TokenVerifier, key: SigningKey) -> None:
    header, _payload, signature = mint(key, roles=["candidate"]).split(".")
    forged = _b64json(claims(roles=["admin"]))
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("claim", ["jti", "sub", "exp", "iat", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(
    verifier: TokenVerifier, key: SigningKey, claim: str
) -> None:
    payload = claims(**{claim: ...})
    assert claim not in payload
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, payload))


@pytest.mark.parametrize("roles", ["admin", {"admin": True}, 1])
def test_roles_must_be_a_list(verifier: TokenVerifier, key: SigningKey, roles: object) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims(roles=roles)))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "....", "eyJ9.eyJ9.x"])
def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(garbage)


# --- key rotation through the JWKS endpoint -------------------------------------------------


def test_a_rotated_key_verifies_without_a_new_verifier(
    jwks_server: JwksServer, key: SigningKey, other_key: SigningKey
) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=jwks_server.url, refresh_cooldown=0)
    assert verifier.verify(mint(key)).subject == "user-42"
    assert jwks_server.hits == 1
    new_token = mint(other_key, subject="after-rotation")
    with pytest.raises(InvalidToken):  # not published yet
        verifier.verify(new_token)

    # the gateway restarts with the new key and keeps the old one published
    rotated = SigningKey(other_key.private_key, previous=(key.private_key.public_key(),))
    jwks_server.jwks = rotated.jwks()

    assert verifier.verify(new_token).subject == "after-rotation"
    assert verifier.verify(mint(key)).subject == "user-42"  # old tokens still good
    hits = jwks_server.hits
    for _ in range(5):  # known keys come from the cache, not from the network
        verifier.verify(mint(other_key))
    assert jwks_server.hits == hits


def test_with_the_default_cooldown_a_rotated_key_is_picked_up_within_seconds(
    jwks_server: JwksServer, key: SigningKey, other_key: SigningKey
) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=jwks_server.url)
    verifier.verify(mint(key))  # the first fetch starts the refresh cooldown
    jwks_server.jwks = SigningKey(other_key.private_key).jwks()
    new_token = mint(other_key, subject="after-rotation")

    deadline = time.monotonic() + 10
    while True:
        try:
            assert verifier.verify(new_token).subject == "after-rotation"
            break
        except InvalidToken:
            if time.monotonic() > deadline:
                pytest.fail("the rotated key was still refused 10 s after it was published")
            time.sleep(0.05)


def test_unknown_kids_do_not_make_a_fetch_each(jwks_server: JwksServer, key: SigningKey) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=jwks_server.url, refresh_cooldown=60)
    verifier.verify(mint(key))
    before = jwks_server.hits
    for _ in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(sign(key, claims(), kid=uuid.uuid4().hex))
    assert jwks_server.hits == before


def test_a_withdrawn_key_stops_verifying_once_the_cache_expires(
    jwks_server: JwksServer, key: SigningKey, other_key: SigningKey
) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=jwks_server.url, cache_seconds=1)
    token = mint(key, lifetime=timedelta(hours=1))
    verifier.verify(token)
    jwks_server.jwks = SigningKey(other_key.private_key).jwks()  # the old key is withdrawn

    deadline = time.monotonic() + 10
    while True:
        try:
            verifier.verify(token)
        except InvalidToken:
            break
        if time.monotonic() > deadline:
            pytest.fail("a key withdrawn from the JWKS still verified tokens after 10 s")
        time.sleep(0.05)


def test_an_unreachable_jwks_gives_invalid_token(key: SigningKey) -> None:
    with JwksServer({}) as server:
        url = server.url
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=url)
    with pytest.raises(InvalidToken):
        verifier.verify(mint(key))


def test_keys_fetched_before_keep_working_while_the_jwks_does_not_answer(
    key: SigningKey,
) -> None:
    server = JwksServer(key.jwks()).__enter__()
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=server.url, cache_seconds=1)
    token = mint(key)
    verifier.verify(token)
    server.__exit__()  # the gateway is too busy to serve its JWKS
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # across the cache's expiry, when a refetch fails
        assert verifier.verify(token).subject == "user-42"
        time.sleep(0.1)


def test_keys_kept_fresh_are_fetched_before_the_first_token(key: SigningKey) -> None:
    server = JwksServer(key.jwks()).__enter__()
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=server.url)
    verifier.keep_keys_fresh()
    wait_until(lambda: server.hits >= 1, 10, "the JWKS fetched in the background")
    server.__exit__()  # from now on the gateway cannot answer
    assert verifier.verify(mint(key)).subject == "user-42"


def test_a_stopped_refresher_asks_the_gateway_no_more(key: SigningKey) -> None:
    with JwksServer(key.jwks()) as server:
        verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=server.url, cache_seconds=1)
        verifier.keep_keys_fresh()
        wait_until(lambda: server.hits >= 1, 10, "the JWKS fetched in the background")
        background.stop_all()
        hits = server.hits
        time.sleep(1.5)  # longer than the refresher's period: a live one would have asked
        assert server.hits == hits
        assert verifier.verify(mint(key)).subject == "user-42"  # the keys fetched stay


def test_no_keys_at_all_is_unavailable_not_unauthorised(key: SigningKey) -> None:
    with JwksServer({}) as server:
        url = server.url
    app, _api = create_base_app("authdemo", title="Auth demo", checks=[])
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks_url=url)

    @app.get("/guarded")
    @require_token(lambda: verifier)
    def guarded() -> dict[str, object]:
        return {}

    answer = app.test_client().get("/guarded", headers={"Authorization": f"Bearer {mint(key)}"})
    assert answer.status_code == 503
    assert answer.json["error"] == "service_unavailable"
    assert answer.headers["Retry-After"] == "5"


# --- require_token on a Flask app -----------------------------------------------------------


@pytest.fixture
def guarded_app(key: SigningKey) -> Flask:
    app, _api = create_base_app("authdemo", title="Auth demo", checks=[])
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks=key.jwks())
    verifier_of: Callable[[], TokenVerifier] = lambda: verifier  # noqa: E731

    @app.get("/coordinators-only")
    @require_token(verifier_of, "coordinator", "admin")
    def coordinators_only() -> dict[str, object]:
        return {"subject": g.claims.subject, "roles": list(g.claims.roles)}

    @app.get("/anyone-signed-in")
    @require_token(verifier_of)
    def anyone() -> dict[str, object]:
        return {"subject": g.claims.subject}

    return app


def _assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_require_token_without_a_header_is_401(guarded_app: Flask) -> None:
    _assert_unauthorized(guarded_app.test_client().get("/coordinators-only"))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Bearer not.a.token", "Token abc"],
)
def test_require_token_with_a_bad_header_is_401(guarded_app: Flask, authorization: str) -> None:
    response = guarded_app.test_client().get(
        "/coordinators-only", headers={"Authorization": authorization}
    )
    _assert_unauthorized(response)


def test_require_token_with_a_forged_or_expired_token_is_401(
    guarded_app: Flask, key: SigningKey, other_key: SigningKey
) -> None:
    client = guarded_app.test_client()
    for token in (mint(other_key), mint(key, now=datetime.now(UTC) - timedelta(hours=1))):
        response = client.get("/coordinators-only", headers={"Authorization": f"Bearer {token}"})
        _assert_unauthorized(response)


def test_require_token_without_the_role_is_403(guarded_app: Flask, key: SigningKey) -> None:
    token = mint(key, roles=["candidate"])
    client = guarded_app.test_client()
    response = client.get("/coordinators-only", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert response.json["message"]
    # the same token is fine where no role is required
    response = client.get("/anyone-signed-in", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json == {"subject": "user-42"}


def test_require_token_with_a_good_token_is_200(guarded_app: Flask, key: SigningKey) -> None:
    token = mint(key, roles=["admin"])
    response = guarded_app.test_client().get(
        "/coordinators-only", headers={"Authorization": f"bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json == {"subject": "user-42", "roles": ["admin"]}
