"""The candidate's API (DESIGN section 6): the dashboard, starting an exam or the technical
test, and the attempt itself (subject, autosave, proctoring events, submission). A candidate
reaches only their own attempts and the exams they are enrolled in; the rest is not found."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.runtime.auth import require_role
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from exams import attempts as cases
from exams import starts
from exams.api import CANDIDATES, Context, answer, candidate
from exams.attempts import attempt_view
from exams.dashboard import dashboard
from exams.domain import PDF_TYPE, Declaration
from exams.schemas import (
    AnswerSavedSchema,
    AnswerSchema,
    AttemptContentSchema,
    AttemptSchema,
    DashboardSchema,
    EventReportSchema,
    ProctoringEventSchema,
    StartSchema,
    SubmittedSchema,
)

blp = Blueprint(
    "candidates",
    __name__,
    url_prefix="/api/v1",
    description="Candidates: dashboard, exams, technical test, attempts",
)

START_REFUSALS = (
    "outside_start_window, device_check_required, technical_test_required, "
    "screen_share_required, webcam_required, terms_not_accepted (the first unmet, all of them "
    "in `unmet`); already_submitted; time_over"
)


def _declaration(body: dict[str, Any]) -> Declaration:
    screen = body.get("screen_share") or {}
    webcam = body.get("webcam") or {}
    return Declaration(
        terms_accepted=body["terms_accepted"],
        display_surface=screen.get("display_surface"),
        webcam_ok=webcam.get("ok", False),
    )


def _started(started: starts.Started) -> tuple[dict[str, Any], int]:
    view = attempt_view(started.attempt, current_context(Context).settings.grace)
    return view, 201 if started.created else 200


@blp.route("/dashboard")
class Dashboard(MethodView):
    @require_role(*CANDIDATES)
    @blp.response(200, DashboardSchema)
    def get(self) -> Any:
        """Upcoming exams with what each still needs, submitted copies, the technical test
        and the device check."""
        context = current_context(Context)
        account_id, now = candidate(), context.clock()
        return in_transaction(
            context.sessions,
            lambda s: dashboard(s, account_id, now, context.settings.grace),
            answer=answer,
        )


@blp.route("/exams/<uuid:exam_id>/start")
class ExamStart(MethodView):
    @require_role(*CANDIDATES)
    @blp.arguments(StartSchema)
    @blp.response(201, AttemptSchema)
    @blp.alt_response(200, schema=AttemptSchema, description="Already started: the same attempt")
    @blp.alt_response(409, description=START_REFUSALS)
    def post(self, body: dict[str, Any], exam_id: uuid.UUID) -> Any:
        """Start the exam, after sharing the entire screen and the webcam and accepting the
        terms. Starting again while the attempt runs gives the same attempt."""
        context = current_context(Context)
        account_id, now = candidate(), context.clock()
        started = in_transaction(
            context.sessions,
            lambda s: starts.start_exam(
                s,
                context.outbox,
                exam_id,
                account_id,
                _declaration(body),
                now,
                context.settings.grace,
            ),
            answer=answer,
            retry_on_conflict=True,
        )
        return _started(started)


@blp.route("/technical-test/start")
class TechnicalTestStart(MethodView):
    @require_role(*CANDIDATES)
    @blp.arguments(StartSchema)
    @blp.response(201, AttemptSchema)
    @blp.alt_response(200, schema=AttemptSchema, description="A practice run under way")
    @blp.alt_response(409, description=START_REFUSALS)
    def post(self, body: dict[str, Any]) -> Any:
        """Start a practice run of the technical test: the same sequence as an exam, at any
        time. Submitting it marks the technical test done."""
        context = current_context(Context)
        settings = context.settings
        account_id, now = candidate(), context.clock()
        started = in_transaction(
            context.sessions,
            lambda s: starts.start_technical_test(
                s,
                account_id,
                _declaration(body),
                now,
                settings.grace,
                settings.technical_test_minutes,
            ),
            answer=answer,
            retry_on_conflict=True,
        )
        return _started(started)


@blp.route("/attempts/<uuid:attempt_id>")
class AttemptResource(MethodView):
    @require_role(*CANDIDATES)
    @blp.response(200, AttemptContentSchema)
    def get(self, attempt_id: uuid.UUID) -> Any:
        """The attempt with its last saved answer, to pick it up again after a reload."""
        context = current_context(Context)
        account_id = candidate()
        attempt = in_transaction(
            context.sessions, lambda s: cases.own_attempt(s, attempt_id, account_id), answer=answer
        )
        return {**attempt_view(attempt, context.settings.grace), "content": attempt.content}


@blp.route("/attempts/<uuid:attempt_id>/document")
class AttemptDocument(MethodView):
    @require_role(*CANDIDATES)
    @blp.response(200, content_type=PDF_TYPE)
    @blp.alt_response(404, description="attempt_not_found or document_not_available")
    @blp.alt_response(409, description="already_submitted or time_over")
    def get(self, attempt_id: uuid.UUID) -> Response:
        """The exam's subject, while the attempt accepts answers."""
        context = current_context(Context)
        account_id, now = candidate(), context.clock()
        document = in_transaction(
            context.sessions,
            lambda s: cases.subject_of(s, attempt_id, account_id, now, context.settings.grace),
            answer=answer,
        )
        response = Response(document.content, mimetype=PDF_TYPE)
        response.headers["Content-Disposition"] = 'inline; filename="subject.pdf"'
        response.headers["ETag"] = f'"{document.sha256}"'
        return response


@blp.route("/attempts/<uuid:attempt_id>/answer")
class AttemptAnswer(MethodView):
    @require_role(*CANDIDATES)
    @blp.arguments(AnswerSchema)
    @blp.response(200, AnswerSavedSchema)
    @blp.alt_response(409, description="stale_revision (with the current revision), time_over")
    @blp.alt_response(413, description="answer_too_large")
    def put(self, body: dict[str, Any], attempt_id: uuid.UUID) -> Any:
        """Autosave: the answer replaces the one at ``revision``, the last the page saw."""
        context = current_context(Context)
        settings = context.settings
        account_id, now = candidate(), context.clock()
        saved = in_transaction(
            context.sessions,
            lambda s: cases.save_answer(
                s,
                attempt_id,
                account_id,
                body["content"],
                body["revision"],
                now,
                settings.grace,
                settings.answer_max_bytes,
            ),
            answer=answer,
        )
        return {"revision": saved.revision, "saved_at": saved.saved_at}


@blp.route("/attempts/<uuid:attempt_id>/events")
class AttemptEventReports(MethodView):
    @require_role(*CANDIDATES)
    @blp.arguments(EventReportSchema)
    @blp.response(201, ProctoringEventSchema)
    def post(self, body: dict[str, Any], attempt_id: uuid.UUID) -> Any:
        """Report what happened during the attempt (focus lost, screen share ended...)."""
        context = current_context(Context)
        account_id, now = candidate(), context.clock()
        event = in_transaction(
            context.sessions,
            lambda s: cases.record_event(
                s, attempt_id, account_id, body, now, context.settings.events_per_attempt
            ),
            answer=answer,
        )
        return dict(event._mapping)


@blp.route("/attempts/<uuid:attempt_id>/submit")
class AttemptSubmit(MethodView):
    @require_role(*CANDIDATES)
    @blp.response(201, SubmittedSchema)
    @blp.alt_response(200, schema=SubmittedSchema, description="Already submitted: that copy")
    def post(self, attempt_id: uuid.UUID) -> Any:
        """Submit the last saved answer as the copy; its SHA-256 is the receipt. Past the end
        and its grace the copy is still made from what was saved in time, marked late."""
        context = current_context(Context)
        account_id, now = candidate(), context.clock()
        submitted = in_transaction(
            context.sessions,
            lambda s: cases.submit(
                s, context.outbox, attempt_id, account_id, now, context.settings.grace
            ),
            answer=answer,
        )
        return submitted.copy, 201 if submitted.created else 200
