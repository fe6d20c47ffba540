"""The coordinator API (DESIGN section 6): evaluations, exams and their subjects, and what
candidates did. Parse, call a use case, dump; all of it within the token's institution."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Row
from sqlalchemy.orm import Session

from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from exams import evaluations as cases
from exams.api import COORDINATORS, Context, answer, institution
from exams.catalogue import exam_view
from exams.domain import DOCUMENT_TYPES, ExamRefusal
from exams.schemas import (
    AttemptListSchema,
    CopyContentSchema,
    CopyListSchema,
    EvaluationDetailSchema,
    EvaluationPutSchema,
    ExamCreateSchema,
    ExamSchema,
    ProctoringEventListSchema,
)

blp = Blueprint(
    "evaluations",
    __name__,
    url_prefix="/api/v1",
    description="Coordinators: evaluations, exams, subjects, attempts and copies",
)

PDF_BODY = {
    "required": True,
    "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}}
        for media_type in DOCUMENT_TYPES
    },
}
REF = [
    {
        "in": "path",
        "name": "ref",
        "description": "the institution's own reference of the evaluation",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    }
]


def checked_ref(ref: str) -> str:
    """An evaluation's reference as invitations accept it: 1 to 100 printable characters."""
    if not (1 <= len(ref) <= 100 and ref.isprintable() and ref == ref.strip()):
        raise ApiError(
            422,
            "validation_error",
            "An evaluation reference is 1 to 100 printable characters, without surrounding spaces.",
        )
    return ref


def _evaluation_view(session: Session, evaluation: Row[Any]) -> dict[str, Any]:
    return {
        "ref": evaluation.ref,
        "name": evaluation.name,
        "created_at": evaluation.created_at,
        "updated_at": evaluation.updated_at,
        "enrolled": cases.enrolled_count(session, evaluation.id),
        "exams": [exam_view(e) for e in cases.evaluation_exams(session, evaluation.id)],
    }


@blp.route("/evaluations/<ref>", parameters=REF)
class EvaluationResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.arguments(EvaluationPutSchema)
    @blp.response(200, EvaluationDetailSchema)
    @blp.alt_response(201, schema=EvaluationDetailSchema, description="Created")
    def put(self, body: dict[str, Any], ref: str) -> Any:
        """Create the evaluation with this reference, or rename it."""
        ref = checked_ref(ref)
        context = current_context(Context)
        now = context.clock()

        def put(session: Session) -> tuple[dict[str, Any], int]:
            row, created = cases.put_evaluation(session, institution(), ref, body["name"], now)
            return _evaluation_view(session, row), 201 if created else 200

        return in_transaction(context.sessions, put, answer=answer)

    @require_role(*COORDINATORS)
    @blp.response(200, EvaluationDetailSchema)
    def get(self, ref: str) -> Any:
        """The evaluation, how many candidates are enrolled, and its exams."""
        ref = checked_ref(ref)
        return in_transaction(
            current_context(Context).sessions,
            lambda s: _evaluation_view(s, cases.find_evaluation(s, institution(), ref)),
            answer=answer,
        )


@blp.route("/evaluations/<ref>/exams", parameters=REF)
class EvaluationExams(MethodView):
    @require_role(*COORDINATORS)
    @blp.arguments(ExamCreateSchema)
    @blp.response(201, ExamSchema)
    def post(self, body: dict[str, Any], ref: str) -> Any:
        """Schedule an exam of the evaluation. Candidates may start it from ``starts_at`` for
        ``start_window_minutes``, and each gets ``duration_minutes`` from their start."""
        ref = checked_ref(ref)
        context = current_context(Context)
        now = context.clock()
        return in_transaction(
            context.sessions,
            lambda s: exam_view(cases.create_exam(s, institution(), ref, body, now)),
            answer=answer,
        )


@blp.route("/exams/<uuid:exam_id>")
class ExamResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, ExamSchema)
    def get(self, exam_id: uuid.UUID) -> Any:
        """One exam of the institution."""
        return in_transaction(
            current_context(Context).sessions,
            lambda s: exam_view(cases.find_exam(s, institution(), exam_id)),
            answer=answer,
        )


@blp.route("/exams/<uuid:exam_id>/document")
class ExamDocument(MethodView):
    @require_role(*COORDINATORS)
    @blp.doc(requestBody=PDF_BODY)
    @blp.response(200, ExamSchema)
    @blp.alt_response(409, description="exam_already_started")
    @blp.alt_response(413, description="document_too_large")
    @blp.alt_response(415, description="unsupported_media_type")
    @blp.alt_response(422, description="document_not_pdf")
    def put(self, exam_id: uuid.UUID) -> Any:
        """Upload the exam's subject: the body is the PDF itself, sent as application/pdf (or
        as application/octet-stream, as generic upload tools do); it must start with the PDF
        signature."""
        context = current_context(Context)
        limit = context.settings.document_max_bytes
        if request.mimetype not in DOCUMENT_TYPES:
            raise answer(ExamRefusal("unsupported_media_type"))
        if request.content_length is not None and request.content_length > limit:
            raise answer(ExamRefusal("document_too_large", max_bytes=limit))
        data = request.get_data(cache=False)
        now = context.clock()
        return in_transaction(
            context.sessions,
            lambda s: exam_view(cases.upload_document(s, institution(), exam_id, data, limit, now)),
            answer=answer,
        )


@blp.route("/exams/<uuid:exam_id>/copies")
class ExamCopies(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, CopyListSchema)
    def get(self, exam_id: uuid.UUID) -> Any:
        """The submitted copies, oldest first, each with its candidate and its SHA-256."""
        rows = in_transaction(
            current_context(Context).sessions,
            lambda s: cases.copies_of(s, institution(), exam_id),
            answer=answer,
        )
        return {"items": [_copy_view(r) for r in rows]}


@blp.route("/exams/<uuid:exam_id>/copies/<uuid:copy_id>")
class ExamCopy(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, CopyContentSchema)
    def get(self, exam_id: uuid.UUID, copy_id: uuid.UUID) -> Any:
        """One copy with its text."""
        row = in_transaction(
            current_context(Context).sessions,
            lambda s: cases.copy_of(s, institution(), exam_id, copy_id),
            answer=answer,
        )
        return {**_copy_view(row), "content": row.content}


def _copy_view(row: Row[Any]) -> dict[str, Any]:
    return {
        "copy_id": row.id,
        "attempt_id": row.attempt_id,
        "candidate": cases.candidate_view(row),
        "sha256": row.sha256,
        "revision": row.revision,
        "submitted_at": row.submitted_at,
        "late": row.late,
    }


@blp.route("/exams/<uuid:exam_id>/attempts")
class ExamAttempts(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, AttemptListSchema)
    def get(self, exam_id: uuid.UUID) -> Any:
        """Who started, when their time ends, whether they submitted, and how many proctoring
        events their page reported."""
        rows = in_transaction(
            current_context(Context).sessions,
            lambda s: cases.attempts_of(s, institution(), exam_id),
            answer=answer,
        )
        return {
            "items": [
                {
                    "attempt_id": r.id,
                    "candidate": cases.candidate_view(r),
                    "started_at": r.started_at,
                    "ends_at": r.ends_at,
                    "display_surface": r.display_surface,
                    "revision": r.revision,
                    "saved_at": r.saved_at,
                    "submitted_at": r.submitted_at,
                    "events": r.events,
                }
                for r in rows
            ]
        }


@blp.route("/exams/<uuid:exam_id>/attempts/<uuid:attempt_id>/events")
class AttemptEvents(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, ProctoringEventListSchema)
    def get(self, exam_id: uuid.UUID, attempt_id: uuid.UUID) -> Any:
        """The proctoring events of one attempt, in the order they were received."""
        rows = in_transaction(
            current_context(Context).sessions,
            lambda s: cases.events_of(s, institution(), exam_id, attempt_id),
            answer=answer,
        )
        return {"items": [dict(r._mapping) for r in rows]}
