"""The gateway's Ed25519 signing key: generated under ``var/`` in dev and test, read from a
file in production. Its ``kid`` is the RFC 7638 thumbprint of the public key, so a rotated
key gets a new ``kid`` on its own; previous public keys stay in the JWKS until their tokens
have expired."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.runtime.keyfiles import read_secret_file


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = _b64(raw)
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    kid = _b64(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    previous: tuple[Ed25519PublicKey, ...] = ()

    @property
    def kid(self) -> str:
        return public_jwk(self.private_key.public_key())["kid"]

    def jwks(self) -> dict[str, Any]:
        keys = [public_jwk(self.private_key.public_key())]
        keys += [public_jwk(k) for k in self.previous]
        return {"keys": keys}


def load_signing_key(path: Path, *, generate: bool, previous: tuple[Path, ...] = ()) -> SigningKey:
    pem = read_secret_file(path, generate=_new_private_pem if generate else None)
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    olds = []
    for old in previous:
        public = serialization.load_pem_public_key(old.read_bytes())
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError(f"{old} is not an Ed25519 public key")
        olds.append(public)
    return SigningKey(private, tuple(olds))


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
