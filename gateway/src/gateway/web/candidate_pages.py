"""The candidate's exam pages (DESIGN section 7): validating the device, starting an exam or
the technical test, and the exam page itself; and the same-origin JSON relay their scripts
call, so that the access token stays in the HttpOnly session cookie (CSRF-checked by the
X-CSRF-Token header, like every state-changing request of the pages)."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from flask_babel import format_datetime, gettext

from gateway.web.account_pages import _sign_in_again
from gateway.web.pages import access_token, current_language, render, web
from gateway.web.signin_pages import PageResult

#: the first segment of a relayed path and the service that owns it
RELAYED = {
    "dashboard": "exams",
    "exams": "exams",
    "technical-test": "exams",
    "attempts": "exams",
    "device-checks": "devicecheck",
}
#: what a relayed answer keeps of the service's headers
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "ETag", "Retry-After")


def moment(value: object) -> str:
    """An ISO 8601 instant from the API, written for the page's language (UTC)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{format_datetime(when, 'medium')} UTC"


def _refused(status: int, error: str, message: str) -> Response:
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    return response


def _signed_out() -> Response:
    return _refused(401, "signed_out", gettext("Your session has ended. Sign in again."))


def add_candidate_pages(blp: Blueprint) -> None:
    @blp.route("/app/api/v1/<path:path>", methods=["GET", "PUT", "POST"])
    def relay(path: str) -> Response:
        segments = path.split("/")
        service = RELAYED.get(segments[0])
        # nothing but the candidate API: no dot segment may climb out of it
        if service is None or any(part in ("", ".", "..") for part in segments):
            return _refused(404, "not_found", gettext("This page does not exist."))
        token = access_token()
        if token is None:
            return _signed_out()
        answer = web().backend.relay(
            service,
            request.method,
            "/api/v1/" + quote(path, safe="/"),
            language=current_language(),
            bearer=token,
            query=request.query_string.decode("latin-1"),
            data=request.get_data(),
            content_type=request.headers.get("Content-Type"),
        )
        if answer is None:
            return _refused(
                503,
                "service_unavailable",
                gettext("The service is unavailable. Try again shortly."),
            )
        response = Response(answer.content, status=answer.status_code)
        for name in KEPT_HEADERS:
            if name in answer.headers:
                response.headers[name] = answer.headers[name]
        return response

    @blp.get("/appareil")
    def device_check() -> PageResult | Response:
        if access_token() is None:
            return _sign_in_again()
        return render("device_check.html", gettext("Validate your device"))

    @blp.get("/examens/<uuid:exam_id>/commencer")
    def start_exam(exam_id: uuid.UUID) -> PageResult | Response:
        if access_token() is None:
            return _sign_in_again()
        return render(
            "exam_start.html",
            gettext("Start the exam"),
            start_url=f"/api/v1/exams/{exam_id}/start",
        )

    @blp.get("/test-technique/commencer")
    def start_technical_test() -> PageResult | Response:
        if access_token() is None:
            return _sign_in_again()
        return render(
            "exam_start.html",
            gettext("Start the technical test"),
            start_url="/api/v1/technical-test/start",
        )

    @blp.get("/examen/<uuid:attempt_id>")
    def exam(attempt_id: uuid.UUID) -> PageResult | Response:
        if access_token() is None:
            return _sign_in_again()
        return render("exam.html", gettext("Exam"), attempt_id=str(attempt_id))
