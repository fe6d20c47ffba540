"""Sealing: how a secret that must travel or wait (an invitation code in an event, an email
holding a reset link) is kept as ciphertext wherever it is written (DESIGN section 5).

A ``Sealer`` encrypts with AES-256-GCM under a key derived (HKDF-SHA-256) from the
platform's sealing key file and a purpose, so that one key file serves several uses
without one use's ciphertext opening under another's. Each sealed value is bound to where
it belongs (an event's id, type, version and field), so it does not open anywhere else.

On the bus, every field marked sensitive is sealed by the producer before its outbox row is
written and opened by the consumer before validation: handlers see the value in clear, the
outbox, the broker, the bus folder and the dead queues only ever see
``sealed:v1:<key id>:<base64url>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contracts.events.codec import REDACTED, ContractViolation, sensitive_paths

SEALED_PREFIX = "sealed:v1:"
BUS_PURPOSE = "bus events"
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that does not open: another key, another place, or tampered with."""


class Sealer:
    def __init__(self, secret: bytes, purpose: str = BUS_PURPOSE) -> None:
        if len(secret) < 32:
            raise ValueError("a sealing key needs at least 32 bytes")
        self._secret = secret
        self.purpose = purpose
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=f"nexam seal v1: {purpose}".encode(),
        ).derive(secret)
        self._aead = AESGCM(key)
        #: names the key in each sealed value, so that a value sealed under another key is
        #: told apart from one tampered with
        self.key_id = hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:8]

    def for_purpose(self, purpose: str) -> Sealer:
        """A sealer for another use of the same key file."""
        return Sealer(self._secret, purpose)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, context)
        except (InvalidTag, ValueError):
            raise SealError("the sealed value does not open here") from None

    def seal_text(self, value: Any, context: str) -> str:
        """``value`` (anything JSON can hold) as one sealed string."""
        sealed = self.seal(json.dumps(value).encode(), context.encode())
        return f"{SEALED_PREFIX}{self.key_id}:{base64.urlsafe_b64encode(sealed).decode()}"

    def open_text(self, text: str, context: str) -> Any:
        key_id, _, payload = text.removeprefix(SEALED_PREFIX).partition(":")
        self._check_key(key_id)
        try:
            sealed = base64.urlsafe_b64decode(payload.encode())
        except ValueError:
            raise SealError("a sealed value that is not base64") from None
        return json.loads(self.open(sealed, context.encode()))

    def seal_bytes(self, plaintext: bytes, context: str) -> bytes:
        """``plaintext`` sealed, marked so that ``is_sealed_bytes`` tells it from clear."""
        marker = f"{SEALED_PREFIX}{self.key_id}:".encode()
        return marker + self.seal(plaintext, context.encode())

    def open_bytes(self, stored: bytes, context: str) -> bytes:
        key_id, _, sealed = stored.removeprefix(SEALED_PREFIX.encode()).partition(b":")
        self._check_key(key_id.decode(errors="replace"))
        return self.open(sealed, context.encode())

    def _check_key(self, key_id: str) -> None:
        if key_id != self.key_id:
            raise SealError(f"sealed under key {key_id!r}, not this one ({self.key_id})")


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def is_sealed_bytes(value: bytes) -> bool:
    return value.startswith(SEALED_PREFIX.encode())


def seal_sensitive(body: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """A copy of the envelope ``body`` with every sensitive field that holds a value sealed."""
    return _each_sensitive(body, lambda value, where: sealer.seal_text(value, where))


def open_sensitive(body: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    """A copy of the envelope ``body`` with its sealed fields opened. A value in clear is
    taken as it is (an event staged before sealing existed); a sealed one that does not open
    is a ``ContractViolation``, as is any sealed value when there is no key."""

    def opened(value: Any, where: str) -> Any:
        if not is_sealed(value):
            return value
        if sealer is None:
            raise ContractViolation(f"{where} is sealed and this consumer has no sealing key")
        try:
            return sealer.open_text(value, where)
        except SealError as exc:
            raise ContractViolation(f"{where}: {exc}") from None

    return _each_sensitive(body, opened)


def carries_secret(body: Any) -> bool:
    """Whether the envelope ``body`` still holds a sensitive value, sealed or not; an
    envelope of no known contract may hold anything, so it counts as holding one."""
    if not isinstance(body, dict):
        return False
    paths = sensitive_paths(body)
    if paths is None:
        return True
    return any(_get(body.get("data"), path) not in (None, REDACTED) for path in paths)


def _each_sensitive(body: dict[str, Any], change: Any) -> dict[str, Any]:
    paths = sensitive_paths(body)
    if not paths or not isinstance(body.get("data"), dict):
        return body  # nothing sensitive, or no known contract: decoding will refuse it
    copy = dict(body)
    copy["data"] = data = json.loads(json.dumps(body["data"]))
    for path in paths:
        parent = _get(data, path[:-1])
        if isinstance(parent, dict) and parent.get(path[-1]) is not None:
            where = f"{body.get('id')}/{body.get('type')}.v{body.get('version')}/" + ".".join(path)
            parent[path[-1]] = change(parent[path[-1]], where)
    return copy


def _get(data: Any, path: list[str]) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data
