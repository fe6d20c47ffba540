"""Tokens for tests: a throwaway Ed25519 key that signs like the gateway, and the verifier
that trusts it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.runtime.auth import TokenVerifier


class TestTokens:
    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = Ed25519PrivateKey.generate()
        jwk = jwt.PyJWK.from_json(jwt.algorithms.OKPAlgorithm.to_jwk(self._key.public_key()))
        self._kid = "test-key"
        self.jwks: dict[str, Any] = {"keys": [{**jwk._jwk_data, "kid": self._kid, "alg": "EdDSA"}]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.issuer, self.audience, jwks=self.jwks)

    def mint(
        self,
        *,
        roles: Sequence[str] = ("coordinator",),
        institution: uuid.UUID | str | None = None,
        subject: str | None = None,
        lifetime: timedelta = timedelta(minutes=15),
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed access token; ``claims`` adds to (or replaces) the standard ones, e.g.
        ``{"sid": ...}`` for a candidate's sign-in session."""
        now = datetime.now(UTC)
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or str(uuid.uuid4()),
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
            "roles": list(roles),
            "institution": str(institution) if institution else None,
            "amr": ["test"],
            **(claims or {}),
        }
        return jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self._kid})

    def header(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(**kwargs)}"}
