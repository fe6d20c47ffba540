"""Request and response schemas of the coordinator API (HTTP, not events)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, pre_load, validate

from contracts.events.humantext import HumanText
from contracts.events.schemas import SIGN_IN_METHODS
from contracts.runtime.languages import LANGUAGES
from invitations.domain import EmailStatus, Status

REQUIRED: dict[str, str | list[Any] | dict[Any, Any]] = {"required": "Required."}


def _text(max_length: int) -> HumanText:
    return HumanText(
        required=True, validate=validate.Length(min=1, max=max_length), error_messages=REQUIRED
    )


def _email() -> fields.Email:
    return fields.Email(
        required=True,
        validate=validate.Length(max=320),
        error_messages={"required": "Required.", "invalid": "Not a valid email address."},
    )


def _language() -> fields.String:
    return fields.String(
        load_default="en",
        validate=validate.OneOf(LANGUAGES, error="Unknown language; use one of: en, fr."),
    )


class _Trimmed(Schema):
    """Surrounding spaces are dropped and blank values count as missing."""

    @pre_load
    def trim(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
                if key == "language":
                    value = value.lower()
            cleaned[key] = value
        return cleaned


class EvaluationSchema(_Trimmed):
    ref = _text(100)
    name = _text(200)


class InvitationCreateSchema(_Trimmed):
    class Meta:
        unknown = RAISE

    email = _email()
    first_name = _text(100)
    last_name = _text(100)
    evaluation = fields.Nested(EvaluationSchema, required=True, error_messages=REQUIRED)
    language = _language()


class RosterRowSchema(_Trimmed):
    """One row of a roster (a CSV line or an element of a JSON list)."""

    class Meta:
        unknown = EXCLUDE

    email = _email()
    first_name = _text(100)
    last_name = _text(100)
    evaluation_ref = _text(100)
    evaluation_name = _text(200)
    language = _language()


class InvitationSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    language = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    expires_at = fields.AwareDateTime(allow_none=True)
    evaluation = fields.Dict()
    email_status = fields.String(metadata={"enum": [s.value for s in EmailStatus]})
    email_error = fields.String(allow_none=True)
    sign_in_methods = fields.List(
        fields.String(metadata={"enum": list(SIGN_IN_METHODS)}),
        metadata={
            "description": "How the candidate signs in (password, microsoft, google), sorted; "
            "empty until the candidate has an account."
        },
    )
    batch_id = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class InvitationPageSchema(Schema):
    items = fields.List(fields.Nested(InvitationSchema))
    next_cursor = fields.String(allow_none=True)


class InvitationQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.Enum(Status, by_value=True)
    evaluation = fields.String(validate=validate.Length(min=1, max=100))
    email = fields.String(validate=validate.Length(min=1, max=320))
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RejectedRowSchema(Schema):
    row = fields.Integer()
    errors = fields.Dict()


class BatchAcceptedSchema(Schema):
    batch_id = fields.UUID()
    accepted = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))


class BatchSchema(Schema):
    batch_id = fields.UUID(attribute="id")
    status = fields.String()
    total_rows = fields.Integer()
    accepted = fields.Integer()
    processed = fields.Integer()
    issued = fields.Integer()
    enrolled = fields.Integer()
    skipped = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))
    created_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
