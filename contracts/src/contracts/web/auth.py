"""The one way every service verifies a gateway-signed access token: EdDSA only, audience and
issuer pinned, keys taken from the gateway's JWKS and cached (a token with an unknown ``kid``
makes one refetch, at most one every ``refresh_cooldown`` seconds, so a key rotation needs no
restart; a key removed from the JWKS stops verifying once the cache expires)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import jwt
from flask import current_app, g, request

from contracts.web.errors import ApiError

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti")

F = TypeVar("F", bound=Callable[..., Any])


class InvalidToken(Exception):
    pass


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
            jwt.PyJWKClient(jwks_url, lifespan=cache_seconds, timeout=5) if jwks_url else None
        )
        if self._client is not None:
            # recent PyJWT waits 30 s after any fetch before an unknown kid may refetch, which
            # rejects the tokens of a freshly rotated key for that long
            self._client.cooldown_duration = refresh_cooldown
        self._static = jwt.PyJWKSet.from_dict(jwks) if jwks else None

    def _key_for(self, token: str) -> Any:
        try:
            if self._client is not None:
                return self._client.get_signing_key_from_jwt(token).key
            kid = jwt.get_unverified_header(token).get("kid")
            assert self._static is not None
            for key in self._static.keys:
                if key.key_id == kid:
                    return key.key
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
