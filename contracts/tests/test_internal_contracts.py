"""The answers identity gives the gateway (``contracts.events.internal``): what identity
dumps, the gateway loads as it was, and an unusable answer is refused whole."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from contracts.events.internal import ApiClientSchema, SignedInSchema

OPENED = {
    "session_id": uuid.uuid4(),
    "account_id": uuid.uuid4(),
    "refresh_token": "k3sV0m3R4nd0mT0k3n",
    "session_expires_at": datetime(2026, 11, 23, 20, 30, 12, tzinfo=UTC),
    "roles": ["candidate"],
    "amr": ["pwd", "otp"],
    "language": "fr",
}


def test_a_signed_in_answer_round_trips() -> None:
    dumped = SignedInSchema().dump(OPENED)
    assert dumped["session_id"] == str(OPENED["session_id"])
    assert dumped["session_expires_at"] == "2026-11-23T20:30:12+00:00"
    loaded = SignedInSchema().load(dumped)
    assert loaded == {
        **OPENED,
        "session_id": str(OPENED["session_id"]),
        "account_id": str(OPENED["account_id"]),
    }


def test_a_moment_without_an_offset_is_utc_and_unknown_fields_are_ignored() -> None:
    dumped = SignedInSchema().dump(OPENED)
    loaded = SignedInSchema().load(
        {**dumped, "session_expires_at": "2026-11-23T20:30:12", "later": 1}
    )
    assert loaded["session_expires_at"] == OPENED["session_expires_at"]
    assert "later" not in loaded


@pytest.mark.parametrize(
    "change",
    [
        {"session_id": ""},
        {"refresh_token": None},
        {"roles": "candidate"},
        {"amr": [1]},
        {"session_expires_at": "tomorrow"},
    ],
)
def test_an_unusable_signed_in_answer_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SignedInSchema().load({**SignedInSchema().dump(OPENED), **change})
    with pytest.raises(ValidationError):
        SignedInSchema().load(["not", "an", "object"])


def test_an_api_client_answer_round_trips() -> None:
    client = {"client_id": "nxc_0123", "institution_id": uuid.uuid4(), "name": "SIS"}
    loaded = ApiClientSchema().load(ApiClientSchema().dump(client))
    assert loaded == {**client, "institution_id": str(client["institution_id"])}
    with pytest.raises(ValidationError):
        ApiClientSchema().load({"client_id": "nxc_0123"})
