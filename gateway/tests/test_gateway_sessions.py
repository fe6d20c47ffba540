"""Candidate sign-in at the gateway: the access token it signs once identity has checked the
emailed code or the refresh token, identity's refusals passed through, identity down, bad
bodies; and the per-address rate limits on code entry, sign-in and forgot password, in memory
and in Redis. Identity is a small fake HTTP server on an ephemeral port."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask, Response, jsonify, request

from contracts.runtime.auth import Claims, TokenVerifier
from contracts.runtime.settings import ConfigurationError
from contracts.testing.serving import closed_port_url, serving
from gateway import create_app
from gateway.config import SERVICES, GatewaySettings
from gateway.keys import load_signing_key
from gateway.tokens import mint_access_token

ISSUER = "http://127.0.0.1:8000"
TWO_FACTOR = "/api/v1/sessions/two-factor"
REFRESH = "/api/v1/sessions/refresh"
REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


# --- a fake identity ------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class FakeIdentity:
    """Records what it receives. Answers the internal session endpoints from ``answers``
    (path -> (status, JSON body, headers)), a new session by default; echoes anything else,
    which is what the gateway forwards as it is."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    answers: dict[str, tuple[int, Any, dict[str, str]]] = field(default_factory=dict)
    session_ends: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(hours=12))

    def app(self) -> Flask:
        app = Flask("fake-identity")

        @app.get("/internal/v1/sessions/ended")
        def ended_sessions() -> Response:
            # a gateway that starts catches up here: not what these tests watch
            return jsonify({"sessions": []})

        @app.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def anything(path: str) -> Response:
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    {k.lower(): v for k, v in request.headers.items()},
                    request.get_json(silent=True),
                )
            )
            if request.path in self.answers:
                status, body, headers = self.answers[request.path]
            elif request.path in ("/internal/v1/sessions", "/internal/v1/sessions/refresh"):
                (status, body), headers = self.new_session(request.path), {}
            else:
                status, body, headers = 200, {"forwarded": request.path}, {}
            response = jsonify(body) if body is not None else Response(b"oops", status=status)
            response.status_code = status
            response.headers.update(headers)
            return response

        return app

    def new_session(self, path: str) -> tuple[int, dict[str, Any]]:
        return 201 if path == "/internal/v1/sessions" else 200, {
            "session_id": "s-1",
            "account_id": "a-1",
            "refresh_token": f"refresh-{uuid.uuid4().hex}",
            "session_expires_at": self.session_ends.isoformat(),
            "roles": ["candidate"],
            "amr": ["pwd", "otp"],
            "language": "fr",
        }

    def calls_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
def make_gateway(tmp_path: Path, identity: FakeIdentity) -> Callable[..., Flask]:
    """A gateway whose identity is the fake, and every other service a closed port."""
    closed = {f"{name.upper()}_URL": closed_port_url() for name in SERVICES}

    def make(**environ: str) -> Flask:
        env = {
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "PUBLIC_URL": ISSUER,
            **closed,
            "IDENTITY_URL": identity.url,
            **environ,
        }
        return create_app(GatewaySettings.from_env(env))

    return make


def verify(app: Flask, token: str) -> Claims:
    """Verified as every service does: the gateway's JWKS, EdDSA only, issuer and audience."""
    jwks = app.test_client().get("/.well-known/jwks.json").json
    assert jwks is not None
    return TokenVerifier(ISSUER, "nexam", jwks=jwks).verify(token)


# --- two-factor: the access token -----------------------------------------------------------


def test_the_emailed_code_gives_an_access_token_for_the_session(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    app = make_gateway(TRUSTED_PROXIES="1")
    response = app.test_client().post(
        TWO_FACTOR,
        json={"challenge_id": "c-1", "code": "123456", "account_id": "someone-else"},
        headers={"Accept-Language": "fr-CA, fr;q=0.9", "X-Forwarded-For": "198.51.100.20"},
    )

    assert response.status_code == 200, response.json
    body = response.json
    assert body is not None
    assert sorted(body) == ["access_token", "expires_in", "refresh_token", "token_type"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_token"].startswith("refresh-")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"

    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] == app.extensions["nexam.gateway"]["key"].kid
    claims = verify(app, body["access_token"])
    assert claims.subject == "a-1"
    assert claims.roles == ("candidate",)
    assert claims.institution is None
    assert claims.raw["sid"] == "s-1"
    assert claims.raw["amr"] == ["pwd", "otp"]
    assert claims.raw["exp"] - claims.raw["iat"] == body["expires_in"]

    [call] = identity.seen
    assert (call.method, call.path) == ("POST", "/internal/v1/sessions")
    assert call.json == {"challenge_id": "c-1", "code": "123456"}  # nothing else goes along
    assert call.headers["accept-language"] == "fr-CA, fr;q=0.9"
    assert call.headers["x-forwarded-for"] == "198.51.100.20"
    service = verify(app, call.headers["authorization"].removeprefix("Bearer "))
    assert service.subject == "gateway"
    assert service.roles == ("gateway",)
    assert service.raw["amr"] == ["service"]
    assert service.raw["exp"] - service.raw["iat"] == 60


def test_the_access_token_never_outlives_the_session(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    identity.session_ends = datetime.now(UTC) + timedelta(seconds=120)
    app = make_gateway()
    body = app.test_client().post(TWO_FACTOR, json={"challenge_id": "c", "code": "1"}).json
    assert body is not None

    assert 110 <= body["expires_in"] <= 120
    claims = verify(app, body["access_token"])
    assert claims.raw["exp"] - claims.raw["iat"] == body["expires_in"]
    assert claims.raw["exp"] <= identity.session_ends.timestamp()


def test_a_session_that_has_already_ended_gives_no_token(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    identity.session_ends = datetime.now(UTC) - timedelta(seconds=1)
    response = make_gateway().test_client().post(REFRESH, json={"refresh_token": "r"})
    assert response.status_code == 401
    assert response.json == {
        "error": "invalid_grant",
        "message": "The session has ended. Sign in again.",
    }


def test_the_lifetime_setting_applies_to_candidate_tokens(
    make_gateway: Callable[..., Flask],
) -> None:
    app = make_gateway(ACCESS_TOKEN_SECONDS="300")
    body = app.test_client().post(TWO_FACTOR, json={"challenge_id": "c", "code": "1"}).json
    assert body is not None
    assert body["expires_in"] == 300
    claims = verify(app, body["access_token"])
    assert claims.raw["exp"] - claims.raw["iat"] == 300


# --- refresh --------------------------------------------------------------------------------


def test_a_refresh_token_gives_a_new_pair(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    app = make_gateway()
    response = app.test_client().post(
        REFRESH, json={"refresh_token": "the-old-one"}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 200, response.json
    body = response.json
    assert body is not None
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"].startswith("refresh-")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    claims = verify(app, body["access_token"])
    assert (claims.subject, claims.raw["sid"]) == ("a-1", "s-1")
    assert claims.raw["exp"] - claims.raw["iat"] == body["expires_in"] == 15 * 60
    [call] = identity.seen
    assert call.path == "/internal/v1/sessions/refresh"
    assert call.json == {"refresh_token": "the-old-one"}
    assert call.headers["accept-language"] == "en"
    assert call.headers["x-forwarded-for"] == "127.0.0.1"


# --- identity's refusals and failures -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "internal", "status", "body", "headers"),
    [
        (
            TWO_FACTOR,
            "/internal/v1/sessions",
            401,
            {"error": "invalid_code", "message": "Code incorrect", "attempts_left": 3},
            {},
        ),
        (
            TWO_FACTOR,
            "/internal/v1/sessions",
            429,
            {"error": "too_many_attempts", "message": "Wait", "retry_after": 120},
            {"Retry-After": "120"},
        ),
        (
            TWO_FACTOR,
            "/internal/v1/sessions",
            422,
            {"error": "validation_error", "message": "Bad", "errors": {"json": {"code": ["x"]}}},
            {},
        ),
        (
            REFRESH,
            "/internal/v1/sessions/refresh",
            401,
            {"error": "invalid_grant", "message": "Sign in again"},
            {},
        ),
        (
            REFRESH,
            "/internal/v1/sessions/refresh",
            429,
            {"error": "too_many_attempts", "message": "Wait", "retry_after": 7},
            {"Retry-After": "7"},
        ),
    ],
)
def test_identity_refusals_reach_the_caller_as_they_are(
    make_gateway: Callable[..., Flask],
    identity: FakeIdentity,
    path: str,
    internal: str,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    identity.answers[internal] = (status, body, headers)
    fields = {"challenge_id": "c", "code": "1"} if path == TWO_FACTOR else {"refresh_token": "r"}

    response = make_gateway().test_client().post(path, json=fields)

    assert response.status_code == status
    assert response.json == body
    assert response.headers.get("Retry-After") == headers.get("Retry-After")
    assert "access_token" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"error": "internal_error", "message": "boom"}, {}),
        (503, {"error": "service_unavailable", "message": "db down"}, {}),
        (201, None, {}),  # not JSON
        (201, {"session_id": "s-1"}, {}),  # fields missing
        (201, {"session_id": "s", "account_id": "a", "refresh_token": "r", "roles": "x"}, {}),
        (400, None, {}),  # an error that is not JSON
        (401, {"error": "invalid_token", "message": "bad service token"}, {}),  # ours refused
        (403, {"error": "forbidden", "message": "not the gateway"}, {}),
    ],
)
def test_anything_unexpected_from_identity_is_a_502(
    make_gateway: Callable[..., Flask],
    identity: FakeIdentity,
    answer: tuple[int, Any, dict[str, str]],
) -> None:
    identity.answers["/internal/v1/sessions"] = answer
    response = (
        make_gateway().test_client().post(TWO_FACTOR, json={"challenge_id": "c", "code": "1"})
    )
    assert response.status_code == 502
    assert response.json is not None
    assert response.json["error"] == "bad_gateway"
    assert response.json["message"]


@pytest.mark.parametrize(
    ("path", "fields"), [(TWO_FACTOR, ("challenge_id", "code")), (REFRESH, ("refresh_token",))]
)
def test_identity_down_is_a_503(
    make_gateway: Callable[..., Flask], path: str, fields: tuple[str, ...]
) -> None:
    client = make_gateway(IDENTITY_URL=closed_port_url(), GATEWAY_READ_TIMEOUT="10").test_client()
    started = time.monotonic()
    response = client.post(path, json=dict.fromkeys(fields, "x"))
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["error"] == "service_unavailable"
    assert response.json["message"]
    assert response.headers["Retry-After"] == "5"


# --- bad request bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "options", "status", "problems"),
    [
        (TWO_FACTOR, {}, 400, None),
        (TWO_FACTOR, {"data": "challenge_id=c&code=1"}, 400, None),
        (TWO_FACTOR, {"data": "{not json", "content_type": "application/json"}, 400, None),
        (TWO_FACTOR, {"json": ["c", "1"]}, 400, None),
        (TWO_FACTOR, {"json": {}}, 422, ["challenge_id", "code"]),
        (TWO_FACTOR, {"json": {"challenge_id": "c"}}, 422, ["code"]),
        (TWO_FACTOR, {"json": {"challenge_id": "c", "code": 123456}}, 422, ["code"]),
        (TWO_FACTOR, {"json": {"challenge_id": " ", "code": "1"}}, 422, ["challenge_id"]),
        (TWO_FACTOR, {"json": {"challenge_id": "c" * 2000, "code": "1"}}, 422, ["challenge_id"]),
        (REFRESH, {"json": {}}, 422, ["refresh_token"]),
        (REFRESH, {"json": {"refresh_token": ["r"]}}, 422, ["refresh_token"]),
        (REFRESH, {"data": b"\xff\xfe", "content_type": "application/json"}, 400, None),
        (REFRESH, {"json": "r"}, 400, None),
    ],
)
def test_bad_bodies_are_refused_before_identity(
    make_gateway: Callable[..., Flask],
    identity: FakeIdentity,
    path: str,
    options: dict[str, Any],
    status: int,
    problems: list[str] | None,
) -> None:
    response = make_gateway().test_client().post(path, **options)
    assert response.status_code == status
    assert response.json is not None
    assert response.json["error"] == ("bad_request" if status == 400 else "validation_error")
    assert response.json["message"]
    if problems is not None:
        assert sorted(response.json["errors"]["json"]) == problems
    assert identity.seen == []


# --- routing --------------------------------------------------------------------------------


def test_the_token_routes_take_precedence_over_the_forwarding_catch_all(
    make_gateway: Callable[..., Flask],
) -> None:
    adapter = make_gateway().url_map.bind("localhost")
    assert adapter.match(TWO_FACTOR, method="POST")[0] == "sessions.two_factor"
    assert adapter.match(REFRESH, method="POST")[0] == "sessions.refresh"
    assert adapter.match("/api/v1/sessions", method="POST")[0] == "limited.sign_in"
    assert adapter.match("/api/v1/sessions", method="DELETE")[0] == "public.forward"
    assert adapter.match(TWO_FACTOR, method="GET")[0] == "public.forward"
    assert adapter.match(TWO_FACTOR + "/resend", method="POST")[0] == "public.forward"


def test_the_rest_of_sessions_is_forwarded_to_identity_as_it_is(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    client = make_gateway().test_client()
    calls = [
        ("POST", "/api/v1/sessions", {"email": "ada@example.org", "password": "Secret123"}),
        ("DELETE", "/api/v1/sessions", None),
        ("POST", TWO_FACTOR + "/resend", {"challenge_id": "c"}),
        ("GET", "/api/v1/activation", None),
        ("POST", "/api/v1/activation", {"code": "7KQ2-M9XD-4PRT-WZ3H"}),
        ("POST", "/api/v1/password/forgot", {"email": "ada@example.org"}),
    ]
    for method, path, body in calls:
        response = client.open(path, method=method, json=body)
        assert response.status_code == 200, path
        assert response.json == {"forwarded": path}
    assert [(s.method, s.path, s.json) for s in identity.seen] == calls
    assert all("authorization" not in s.headers for s in identity.seen)  # no service token


# --- the identity client, shared with client credentials ------------------------------------


def test_client_credentials_go_through_the_identity_client(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    identity.answers["/internal/v1/api-clients/authenticate"] = (
        200,
        {"client_id": "cl-1", "institution_id": "i-1", "name": "LMS"},
        {},
    )
    app = make_gateway(TRUSTED_PROXIES="1")
    response = app.test_client().post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "cl-1", "client_secret": "s"},
        headers={"Accept-Language": "fr", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200, response.json
    assert response.json is not None
    claims = verify(app, response.json["access_token"])
    assert (claims.subject, claims.institution, claims.roles) == ("cl-1", "i-1", ("api_client",))
    assert "sid" not in claims.raw
    [call] = identity.seen
    assert call.json == {"client_id": "cl-1", "client_secret": "s"}
    assert call.headers["accept-language"] == "fr"
    assert call.headers["x-forwarded-for"] == "203.0.113.9"
    service = verify(app, call.headers["authorization"].removeprefix("Bearer "))
    assert (service.subject, service.roles, service.raw["amr"]) == (
        "gateway",
        ("gateway",),
        ["service"],
    )


def test_client_credentials_with_identity_down_give_503(
    make_gateway: Callable[..., Flask],
) -> None:
    response = (
        make_gateway(IDENTITY_URL=closed_port_url())
        .test_client()
        .post(
            "/api/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
        )
    )
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["error"] == "service_unavailable"


def test_extra_claims_add_to_the_token_and_never_replace_one(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path / "key.pem", generate=True)
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": "nexam",
        "subject": "a-1",
        "roles": ["candidate"],
        "institution": None,
        "amr": ["pwd"],
        "lifetime": timedelta(minutes=1),
    }
    token = mint_access_token(key, **options, extra={"sid": "s-9"})
    assert jwt.decode(token, options={"verify_signature": False})["sid"] == "s-9"
    for reserved in ("sub", "exp", "roles", "aud"):
        with pytest.raises(ValueError, match=reserved):
            mint_access_token(key, **options, extra={reserved: "forged"})


# --- per-address rate limits ----------------------------------------------------------------


def attempt(client: Any, path: str, address: str = "", language: str = "en") -> Any:
    headers = {"Accept-Language": language}
    if address:
        headers["X-Forwarded-For"] = address
    body = {"challenge_id": "c", "code": "1"} if path == TWO_FACTOR else {"x": "y"}
    return client.post(path, json=body, headers=headers)


def assert_limited(response: Any, language: str = "en") -> int:
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert response.json["error"] == "rate_limited"
    assert response.json["retry_after"] == seconds
    unit = "second" if language == "en" else "seconde"
    plural = "s" if seconds > 1 else ""
    if language == "fr":
        expected = (
            f"Trop de tentatives depuis votre réseau. Réessayez dans {seconds} {unit}{plural}."
        )
    else:
        expected = f"Too many attempts from your network. Try again in {seconds} {unit}{plural}."
    assert response.json["message"] == expected
    return seconds


def test_code_entry_is_limited_per_address_with_retry_after(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    client = make_gateway(RATE_LIMIT_CODE_ENTRY="3/minute").test_client()
    paths = ["/api/v1/activation", "/api/v1/activation/two-factor/confirm", "/api/v1/activation"]
    for path in paths:
        assert attempt(client, path).status_code == 200

    assert_limited(attempt(client, "/api/v1/activation/two-factor/confirm"))
    assert_limited(attempt(client, "/api/v1/activation", language="fr;q=1, en;q=0.5"), "fr")
    assert [s.path for s in identity.seen] == paths  # refused ones never reach identity
    # the other steps of activation and the other groups are not counted here
    assert client.get("/api/v1/activation").status_code == 200
    assert client.post("/api/v1/activation/password", json={}).status_code == 200
    assert attempt(client, "/api/v1/sessions").status_code == 200


def test_each_client_address_has_its_own_counter(make_gateway: Callable[..., Flask]) -> None:
    client = make_gateway(RATE_LIMIT_FORGOT_PASSWORD="3/minute", TRUSTED_PROXIES="1").test_client()
    for _ in range(3):
        assert attempt(client, "/api/v1/password/forgot", "198.51.100.1").status_code == 200
    assert_limited(attempt(client, "/api/v1/password/reset", "198.51.100.1"))

    for _ in range(3):
        assert attempt(client, "/api/v1/password/reset", "198.51.100.2").status_code == 200
    assert_limited(attempt(client, "/api/v1/password/forgot", "198.51.100.2", "fr"), "fr")


def test_x_forwarded_for_does_not_escape_the_limit_without_trusted_proxies(
    make_gateway: Callable[..., Flask],
) -> None:
    client = make_gateway(RATE_LIMIT_CODE_ENTRY="2/minute").test_client()
    for n in range(2):
        assert attempt(client, "/api/v1/activation", f"198.51.100.{n}").status_code == 200
    assert_limited(attempt(client, "/api/v1/activation", "198.51.100.99"))


def test_sign_in_counts_the_password_and_the_code_together(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    client = make_gateway(RATE_LIMIT_SIGN_IN="3/minute").test_client()
    assert attempt(client, "/api/v1/sessions").status_code == 200
    assert attempt(client, TWO_FACTOR).status_code == 200
    assert attempt(client, "/api/v1/sessions").status_code == 200

    assert_limited(attempt(client, TWO_FACTOR, language="fr"), "fr")
    assert_limited(attempt(client, "/api/v1/sessions"))
    assert len(identity.calls_to("/internal/v1/sessions")) == 1
    # refresh, sign-out and resend are not sign-in attempts
    assert client.post(REFRESH, json={"refresh_token": "r"}).status_code == 200
    assert client.delete("/api/v1/sessions").status_code == 200
    assert client.post(TWO_FACTOR + "/resend", json={}).status_code == 200


def test_identity_throttling_is_not_confused_with_the_gateway_limit(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    identity.answers["/internal/v1/sessions"] = (
        429,
        {"error": "too_many_attempts", "message": "Wait", "retry_after": 900},
        {"Retry-After": "900"},
    )
    client = make_gateway(RATE_LIMIT_SIGN_IN="3/minute").test_client()
    response = attempt(client, TWO_FACTOR)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert response.json["error"] == "too_many_attempts"


def test_the_defaults_are_generous_and_bad_limits_are_refused(tmp_path: Path) -> None:
    settings = GatewaySettings.from_env({"NEXAM_VAR_DIR": str(tmp_path)})
    assert settings.rate_limit_code_entry == "300/minute"
    assert settings.rate_limit_sign_in == "600/minute"
    assert settings.rate_limit_forgot_password == "60/minute"
    assert settings.redis_url is None
    for bad in ("lots", "0/minute", "3/fortnight"):
        with pytest.raises(ConfigurationError, match="RATE_LIMIT_SIGN_IN"):
            GatewaySettings.from_env({"NEXAM_VAR_DIR": str(tmp_path), "RATE_LIMIT_SIGN_IN": bad})


def test_a_redis_that_does_not_answer_leaves_the_limits_in_memory(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    client = make_gateway(
        REDIS_URL=closed_port_url().replace("http", "redis"), RATE_LIMIT_SIGN_IN="3/minute"
    ).test_client()
    started = time.monotonic()
    for _ in range(3):
        assert attempt(client, "/api/v1/sessions").status_code == 200
    assert_limited(attempt(client, "/api/v1/sessions"))
    assert time.monotonic() - started < 5
    assert len(identity.seen) == 3


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        reason = f"Redis does not answer at {REDIS_TEST_URL}: {exc}"
        if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
        pytest.skip(reason)


def test_gateway_processes_share_their_counters_through_redis(
    make_gateway: Callable[..., Flask], identity: FakeIdentity
) -> None:
    redis_or_skip()
    settings = {"REDIS_URL": REDIS_TEST_URL, "RATE_LIMIT_SIGN_IN": "3/minute"}
    first = make_gateway(TRUSTED_PROXIES="1", **settings).test_client()
    second = make_gateway(TRUSTED_PROXIES="1", **settings).test_client()
    # addresses of this run only, so that counters left by other runs do not count
    address, other = (f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}" for _ in "ab")

    assert attempt(first, "/api/v1/sessions", address).status_code == 200
    assert attempt(second, TWO_FACTOR, address).status_code == 200
    assert attempt(first, "/api/v1/sessions", address).status_code == 200
    assert_limited(attempt(second, "/api/v1/sessions", address, "fr"), "fr")
    assert attempt(second, "/api/v1/sessions", other).status_code == 200
