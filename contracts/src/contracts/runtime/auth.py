"""The one way every service verifies a gateway-signed access token: EdDSA only, audience and
issuer pinned, keys taken from the gateway's JWKS and cached (a token with an unknown ``kid``
makes one refetch, at most one every ``refresh_cooldown`` seconds, so a key rotation needs no
restart; a key removed from the JWKS stops verifying once the cache expires)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import jwt
from flask import current_app, g, request

from contracts.runtime import background
from contracts.runtime.errors import ApiError

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti")

F = TypeVar("F", bound=Callable[..., Any])


class InvalidToken(Exception):
    pass


class KeysUnavailable(InvalidToken):
    """The gateway's keys could not be fetched and none are known yet: the token may be
    good, so the answer is "try again", not "unauthorised"."""


#: how long keys fetched before stay trusted while the JWKS cannot be fetched again
STALE_KEYS_FOR = 3600.0


class _StaleTolerantJWKClient(jwt.PyJWKClient):
    """A JWKS client that keeps using the last key set it fetched when a refetch fails. The
    gateway serves its JWKS from the same threads that wait on the services: under load a
    refetch can time out, and refusing every token then would turn a slow moment into an
    outage."""

    _last_good: Any = None
    _last_good_at = 0.0

    def fetch_data(self) -> Any:
        try:
            data = super().fetch_data()
        except jwt.PyJWKClientConnectionError:
            if self._last_good is None or time.monotonic() - self._last_good_at > STALE_KEYS_FOR:
                raise
            log.warning("the gateway's JWKS did not answer; using the keys fetched before")
            return self._last_good
        self._last_good, self._last_good_at = data, time.monotonic()
        return data


@dataclass(frozen=True)
class Claims:
    subject: str
    roles: tuple[str, ...]
    institution: str | None
    raw: dict[str, Any]

    def has_role(self, role: str) -> bool:
        return role in self.roles


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        cache_seconds: int = 300,
        leeway: int = 10,
        refresh_cooldown: float = 1.0,
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give either jwks_url or jwks")
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        # no per-kid cache (cache_keys): it never expires, so a key withdrawn from the JWKS
        # would stay trusted until a restart; the JWK set itself is cached for cache_seconds
        self._client = (
            _StaleTolerantJWKClient(jwks_url, lifespan=cache_seconds, timeout=5)
            if jwks_url
            else None
        )
        if self._client is not None:
            # recent PyJWT waits 30 s after any fetch before an unknown kid may refetch, which
            # rejects the tokens of a freshly rotated key for that long
            self._client.cooldown_duration = refresh_cooldown
        self._static = jwt.PyJWKSet.from_dict(jwks) if jwks else None
        self._cache_seconds = cache_seconds
        self._refresher: threading.Thread | None = None
        self._stop_refreshing = threading.Event()

    def keep_keys_fresh(self) -> None:
        """Fetch the JWKS in a background thread now and again before the cache expires, so
        that no request waits on the gateway for it. A service whose first token arrives
        while every gateway thread is waiting on that same service would otherwise fetch the
        keys from a gateway that cannot answer."""
        client = self._client
        if client is None or self._refresher is not None:
            return

        def refresh() -> None:
            delay = 1.0
            while True:
                try:
                    client.get_jwk_set(refresh=True)
                    delay = max(self._cache_seconds / 2, 1.0)
                except Exception as exc:  # not there yet, or down: try again soon
                    log.debug("fetching the JWKS failed: %s", exc)
                    delay = min(delay * 2, 30.0)
                if self._stop_refreshing.wait(delay):
                    return

        self._refresher = threading.Thread(target=refresh, name="jwks-refresh", daemon=True)
        self._refresher.start()
        background.started(self)

    def stop(self, wait: bool = True) -> None:
        """The refresher ends (the keys already fetched keep serving)."""
        self._stop_refreshing.set()
        background.stopped(self)
        if wait and self._refresher is not None:
            self._refresher.join(5)

    def _key_for(self, token: str) -> Any:
        try:
            if self._client is not None:
                return self._client.get_signing_key_from_jwt(token).key
            kid = jwt.get_unverified_header(token).get("kid")
            assert self._static is not None
            for key in self._static.keys:
                if key.key_id == kid:
                    return key.key
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(str(exc)) from None
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise InvalidToken(str(exc)) from None
        raise InvalidToken("unknown signing key")

    def verify(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        roles = payload.get("roles") or []
        if not isinstance(roles, list):
            raise InvalidToken("roles must be a list")
        return Claims(
            subject=str(payload["sub"]),
            roles=tuple(str(r) for r in roles),
            institution=payload.get("institution"),
            raw=payload,
        )


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_token(verifier_of: Callable[[], TokenVerifier], *roles: str) -> Callable[[F], F]:
    """View decorator: 401 without a valid token, 403 without one of ``roles``; the claims
    are in ``flask.g.claims``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            if token is None:
                raise _unauthorized("A bearer token is required.")
            try:
                claims = verifier_of().verify(token)
            except KeysUnavailable:
                error = ApiError(
                    503, "service_unavailable", "Tokens cannot be checked right now; retry soon."
                )
                error.headers["Retry-After"] = "5"
                raise error from None
            except InvalidToken:
                raise _unauthorized("The token is invalid or has expired.") from None
            if roles and not any(claims.has_role(r) for r in roles):
                raise ApiError(403, "forbidden", "This token does not allow this action.")
            g.claims = claims
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _unauthorized(message: str) -> ApiError:
    error = ApiError(401, "invalid_token", message)
    error.headers["WWW-Authenticate"] = 'Bearer realm="nexam"'
    return error


VERIFIER_EXTENSION = "nexam.verifier"


def app_verifier() -> TokenVerifier:
    """The verifier of the current app, set up by ``create_service_app``."""
    verifier: TokenVerifier = current_app.extensions[VERIFIER_EXTENSION]
    return verifier


def require_role(*roles: str) -> Callable[[F], F]:
    """``require_token`` with the current app's verifier."""
    return require_token(app_verifier, *roles)


def current_claims() -> Claims:
    claims: Claims = g.claims
    return claims
