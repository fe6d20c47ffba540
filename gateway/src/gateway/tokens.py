"""Minting access tokens (DESIGN section 5). Identity decides who someone is; the gateway
turns that decision into a token signed with its key."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from gateway.keys import SigningKey

#: claims set by the minter or read by verifiers (nbf): an ``extra`` claim must not replace one
RESERVED_CLAIMS = frozenset(
    {"iss", "aud", "sub", "iat", "exp", "jti", "roles", "institution", "amr", "nbf"}
)


def mint_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    subject: str,
    roles: Sequence[str],
    institution: str | None,
    amr: Sequence[str],
    lifetime: timedelta,
    now: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    clashing = RESERVED_CLAIMS & set(extra or {})
    if clashing:
        raise ValueError(f"extra claims may not replace {', '.join(sorted(clashing))}")
    issued = now or datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": str(uuid.uuid4()),
        "roles": list(roles),
        "institution": institution,
        "amr": list(amr),
        **(extra or {}),
    }
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


@dataclass(frozen=True)
class TokenMinter:
    """The gateway's key with its issuer and audience: what every token it signs shares."""

    key: SigningKey
    issuer: str
    audience: str

    def mint(
        self,
        *,
        subject: str,
        roles: Sequence[str],
        institution: str | None,
        amr: Sequence[str],
        lifetime: timedelta,
        now: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        return mint_access_token(
            self.key,
            issuer=self.issuer,
            audience=self.audience,
            subject=subject,
            roles=roles,
            institution=institution,
            amr=amr,
            lifetime=lifetime,
            now=now,
            extra=extra,
        )
