"""Request and response schemas of the device check API (HTTP, not events)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.events.humantext import HumanText
from devicecheck.speed import MAX_BYTES, MIN_BYTES

#: generous ceilings on what a browser reports, so nonsense is refused, not judged
MAX_MBPS = 100_000
MAX_LATENCY_MS = 3_600_000
MAX_PIXELS = 100_000
MAX_AUTOSAVE_CHARS = 20_000


def _mbps() -> fields.Float:
    return fields.Float(
        required=True, allow_none=True, validate=validate.Range(min=0, max=MAX_MBPS)
    )


def _pixels() -> fields.Integer:
    return fields.Integer(
        required=True, allow_none=True, validate=validate.Range(min=0, max=MAX_PIXELS)
    )


class ThresholdsSchema(Schema):
    min_download_mbps = fields.Float()
    min_upload_mbps = fields.Float()
    max_latency_ms = fields.Integer()
    browsers = fields.List(fields.String())
    min_webcam_width = fields.Integer()
    min_webcam_height = fields.Integer()
    validity_days = fields.Integer()


class TransferLimitsSchema(Schema):
    min_bytes = fields.Integer()
    max_bytes = fields.Integer()


class RunSchema(Schema):
    id = fields.UUID()
    started_at = fields.AwareDateTime()
    thresholds = fields.Nested(ThresholdsSchema)
    transfer_limits = fields.Nested(TransferLimitsSchema)
    download_url = fields.String(metadata={"description": "add bytes=N to the query"})
    upload_url = fields.String()
    latency_url = fields.String()
    document_url = fields.String()
    autosave_url = fields.String()
    result_url = fields.String()


class ScreenShareSchema(Schema):
    display_surface = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "the shared track's displaySurface: monitor, window, browser"},
    )


class WebcamSchema(Schema):
    live = fields.Boolean(required=True)
    width = _pixels()
    height = _pixels()


class WritingSchema(Schema):
    typed = fields.Boolean(required=True)
    autosave_ok = fields.Boolean(required=True)


class BrowserSchema(Schema):
    # shown to people and carried by DeviceValidated, whose contract refuses control characters
    name = HumanText(required=True, validate=validate.Length(min=1, max=100))
    version = HumanText(required=True, validate=validate.Length(max=50))


class ResultsSchema(Schema):
    """What the browser measured and saw; a figure it could not measure is null."""

    screen_share = fields.Nested(ScreenShareSchema, required=True)
    webcam = fields.Nested(WebcamSchema, required=True)
    download_mbps = _mbps()
    upload_mbps = _mbps()
    latency_ms = fields.Float(
        required=True, allow_none=True, validate=validate.Range(min=0, max=MAX_LATENCY_MS)
    )
    document_displayed = fields.Boolean(required=True)
    writing = fields.Nested(WritingSchema, required=True)
    browser = fields.Nested(BrowserSchema, required=True)


class FailureSchema(Schema):
    check = fields.String()
    reason = fields.String()
    message = fields.String()
    advice = fields.String()


class ResultSchema(Schema):
    id = fields.UUID()
    started_at = fields.AwareDateTime()
    judged_at = fields.AwareDateTime(allow_none=True)
    passed = fields.Boolean(allow_none=True)
    failures = fields.List(fields.Nested(FailureSchema))
    valid_until = fields.AwareDateTime(allow_none=True)
    valid = fields.Boolean()


class CheckQuerySchema(Schema):
    check_id = fields.UUID(
        metadata={"description": "the run this request measures for; from the run's URLs"}
    )


class DownloadQuerySchema(CheckQuerySchema):
    bytes = fields.Integer(required=True, validate=validate.Range(min=MIN_BYTES, max=MAX_BYTES))


class UploadReceiptSchema(Schema):
    received_bytes = fields.Integer()
    received_at = fields.AwareDateTime()


class AutosaveSchema(Schema):
    content = fields.String(required=True, validate=validate.Length(max=MAX_AUTOSAVE_CHARS))
    revision = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "the revision the browser last had; 0 before any save"},
    )


class SavedSchema(Schema):
    revision = fields.Integer()
    saved_at = fields.AwareDateTime()
