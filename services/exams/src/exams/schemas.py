"""Request and response schemas of the exams API (HTTP, not events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from contracts.events.humantext import HumanText
from exams.domain import ProctoringEvent

REQUIRED: dict[str, str | list[Any] | dict[Any, Any]] = {"required": "Required."}
#: PostgreSQL keeps 4-byte integers in these columns
INT_MAX = 2**31 - 1
MINUTES_IN_A_DAY = 24 * 60
#: far enough for any exam, near enough that no arithmetic on it overflows
EARLIEST, LATEST = 2000, 2100


def storable(value: str) -> None:
    """Text that both databases keep as it is: UTF-8 (JSON may carry lone surrogates, which
    have no UTF-8 form) and without NUL (which PostgreSQL refuses in text)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("The text is not valid Unicode.") from None
    if "\x00" in value:
        raise ValidationError("The text contains a NUL character.")


def _text(max_length: int, **kwargs: Any) -> HumanText:
    """One line of human text (a title, a name); refusing control characters and lone
    surrogates, it is storable too."""
    return HumanText(
        validate=validate.Length(min=1, max=max_length), error_messages=REQUIRED, **kwargs
    )


class Moment(fields.AwareDateTime):
    """A moment with its offset, kept in UTC, between the years 2000 and 2100."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= moment.year <= LATEST:
            raise ValidationError(f"Give a moment between {EARLIEST} and {LATEST}.")
        return moment.astimezone(UTC)


class _Trimmed(Schema):
    """Surrounding spaces are dropped from text values."""

    @pre_load
    def trim(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


# -- coordinators ----------------------------------------------------------------------------


class EvaluationPutSchema(_Trimmed):
    name = _text(200, required=True)


class RequiresSchema(Schema):
    screen_share = fields.Boolean(load_default=False)
    webcam = fields.Boolean(load_default=False)
    device_check = fields.Boolean(load_default=False)
    technical_test = fields.Boolean(load_default=False)


NOTHING_REQUIRED = {
    "screen_share": False,
    "webcam": False,
    "device_check": False,
    "technical_test": False,
}


class ExamCreateSchema(_Trimmed):
    title = _text(200, required=True)
    starts_at = Moment(required=True, error_messages=REQUIRED)
    duration_minutes = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MINUTES_IN_A_DAY),
        error_messages=REQUIRED,
    )
    start_window_minutes = fields.Integer(
        load_default=20, strict=True, validate=validate.Range(min=1, max=MINUTES_IN_A_DAY)
    )
    requires = fields.Nested(RequiresSchema, load_default=NOTHING_REQUIRED)


class EvaluationRefSchema(Schema):
    ref = fields.String()
    name = fields.String()


class SubjectDocumentSchema(Schema):
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.AwareDateTime()


class ExamSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    evaluation = fields.Nested(EvaluationRefSchema, allow_none=True)
    starts_at = fields.AwareDateTime(allow_none=True)
    start_closes_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "no start from this moment on"}
    )
    ends_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "the latest end of an attempt"}
    )
    duration_minutes = fields.Integer()
    start_window_minutes = fields.Integer()
    requires = fields.Nested(RequiresSchema)
    document = fields.Nested(SubjectDocumentSchema, allow_none=True)
    created_at = fields.AwareDateTime()


class EvaluationDetailSchema(Schema):
    ref = fields.String()
    name = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    enrolled = fields.Integer()
    exams = fields.List(fields.Nested(ExamSchema))


class CandidateSchema(Schema):
    account_id = fields.UUID()
    email = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)


class CopySchema(Schema):
    copy_id = fields.UUID()
    attempt_id = fields.UUID()
    candidate = fields.Nested(CandidateSchema)
    sha256 = fields.String()
    revision = fields.Integer()
    submitted_at = fields.AwareDateTime()
    late = fields.Boolean()


class CopyListSchema(Schema):
    items = fields.List(fields.Nested(CopySchema))


class CopyContentSchema(CopySchema):
    content = fields.String()


class AttemptSummarySchema(Schema):
    attempt_id = fields.UUID()
    candidate = fields.Nested(CandidateSchema)
    started_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    display_surface = fields.String(allow_none=True)
    revision = fields.Integer()
    saved_at = fields.AwareDateTime(allow_none=True)
    submitted_at = fields.AwareDateTime(allow_none=True)
    events = fields.Integer()


class AttemptListSchema(Schema):
    items = fields.List(fields.Nested(AttemptSummarySchema))


class ProctoringEventSchema(Schema):
    id = fields.UUID()
    type = fields.String()
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    details = fields.Dict(allow_none=True)


class ProctoringEventListSchema(Schema):
    items = fields.List(fields.Nested(ProctoringEventSchema))


# -- candidates ------------------------------------------------------------------------------


class SharedScreenSchema(Schema):
    display_surface = fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(max=16), storable],
        metadata={"description": 'the shared surface; only "monitor" (entire screen) counts'},
    )


class WebcamStateSchema(Schema):
    ok = fields.Boolean(load_default=False)


class StartSchema(Schema):
    terms_accepted = fields.Boolean(load_default=False)
    screen_share = fields.Nested(SharedScreenSchema, allow_none=True, load_default=None)
    webcam = fields.Nested(WebcamStateSchema, allow_none=True, load_default=None)


class AttemptSchema(Schema):
    attempt_id = fields.UUID()
    exam_id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    started_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    accepts_answers_until = fields.AwareDateTime()
    revision = fields.Integer()
    saved_at = fields.AwareDateTime(allow_none=True)
    submitted_at = fields.AwareDateTime(allow_none=True)


class AttemptContentSchema(AttemptSchema):
    content = fields.String()


class AnswerSchema(Schema):
    content = fields.String(required=True, validate=storable, error_messages=REQUIRED)
    revision = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=INT_MAX),
        error_messages=REQUIRED,
    )


class AnswerSavedSchema(Schema):
    revision = fields.Integer()
    saved_at = fields.AwareDateTime()


class EventReportSchema(Schema):
    type = fields.Enum(ProctoringEvent, by_value=True, required=True, error_messages=REQUIRED)
    occurred_at = Moment(
        required=True,
        error_messages=REQUIRED,
        metadata={"description": "when it happened, by the candidate's clock"},
    )
    details = fields.Dict(
        keys=fields.String(validate=[validate.Length(min=1, max=40), storable]),
        values=fields.String(validate=[validate.Length(max=500), storable]),
        validate=validate.Length(max=20),
        load_default=None,
        allow_none=True,
    )


class SubmittedSchema(Schema):
    copy_id = fields.UUID(attribute="id")
    attempt_id = fields.UUID()
    exam_id = fields.UUID()
    sha256 = fields.String()
    revision = fields.Integer()
    submitted_at = fields.AwareDateTime()
    late = fields.Boolean()


class UpcomingAttemptSchema(Schema):
    attempt_id = fields.UUID()
    ends_at = fields.AwareDateTime()


class UpcomingExamSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    evaluation = fields.Nested(EvaluationRefSchema)
    starts_at = fields.AwareDateTime()
    start_closes_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    duration_minutes = fields.Integer()
    start_window_minutes = fields.Integer()
    requires = fields.Nested(RequiresSchema)
    document_available = fields.Boolean()
    missing = fields.List(
        fields.String(),
        metadata={"description": "device_check, technical_test: to do before the start"},
    )
    can_start_now = fields.Boolean()
    attempt = fields.Nested(UpcomingAttemptSchema, allow_none=True)


class SubmittedCopySchema(Schema):
    copy_id = fields.UUID()
    exam_id = fields.UUID()
    exam_title = fields.String()
    sha256 = fields.String()
    submitted_at = fields.AwareDateTime()
    late = fields.Boolean()


class TechnicalTestSchema(Schema):
    required = fields.Boolean()
    done = fields.Boolean()
    exam_id = fields.UUID()


class DeviceStatusSchema(Schema):
    validated = fields.Boolean()
    validated_at = fields.AwareDateTime(allow_none=True)
    valid_until = fields.AwareDateTime(allow_none=True)


class DashboardSchema(Schema):
    upcoming_exams = fields.List(fields.Nested(UpcomingExamSchema))
    submitted_copies = fields.List(fields.Nested(SubmittedCopySchema))
    technical_test = fields.Nested(TechnicalTestSchema)
    device = fields.Nested(DeviceStatusSchema)
