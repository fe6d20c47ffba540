"""Request and response schemas of the notifier's HTTP API (not event schemas)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.runtime.cursor import MAX_LENGTH
from notifier.domain import STATUSES

#: what ``contracts.runtime.cursor`` writes: unpadded URL-safe base64
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_LENGTH}}}\Z"


class DeliveryQuerySchema(Schema):
    email = fields.Email(
        validate=validate.Length(max=320),
        metadata={"description": "Recipient address, matched without regard to case."},
    )
    event_id = fields.UUID(metadata={"description": "Id of the event the email was sent for."})
    cursor = fields.String(
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={"description": "`next_cursor` of the previous page."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    kind = fields.String(required=True)
    invitation_id = fields.UUID(allow_none=True)
    recipient = fields.String(required=True)
    language = fields.String(required=True)
    subject = fields.String(required=True)
    message_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)
    text = fields.String(
        required=True,
        metadata={"description": "The text part, with codes, tokens and their links redacted."},
    )


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
