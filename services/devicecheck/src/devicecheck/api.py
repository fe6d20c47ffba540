"""The candidate's device check API (DESIGN section 6): parse, call a use case, dump.

Every request that makes the service work for the browser (a run, a download, an upload, a
ping, the document, an autosave) counts against the account's budget; see ``budget``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock
from contracts.runtime.auth import current_claims, require_role
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from contracts.runtime.refusals import Refusal
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from contracts.runtime.translations import N_
from devicecheck import runs
from devicecheck.budget import RateLimited, spend
from devicecheck.config import RequestBudget
from devicecheck.explanations import CATALOG, explain, seconds_words
from devicecheck.judging import Failure
from devicecheck.schemas import (
    AutosaveSchema,
    CheckQuerySchema,
    DownloadQuerySchema,
    ResultSchema,
    ResultsSchema,
    RunSchema,
    SavedSchema,
    UploadReceiptSchema,
)
from devicecheck.speed import MAX_BYTES, MIN_BYTES, UploadTooLarge, random_bytes, read_upload
from devicecheck.thresholds import Thresholds

PREFIX = "/api/v1/device-checks"
CANDIDATE = "candidate"

T = TypeVar("T")

blp = Blueprint("device_checks", __name__, url_prefix=PREFIX, description="Device check")

UPLOAD_BODY = {
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    outbox: Outbox
    clock: Clock
    #: a monotonic clock in seconds, for timing uploads
    timer: Callable[[], float]
    thresholds: Thresholds
    budget: RequestBudget
    document: bytes


#: each refusal's status and words, by code
ANSWERS = {
    "device_check_not_found": (
        404,
        N_("This device check does not exist. Start a new one."),
    ),
    "no_device_check": (
        404,
        N_("You have not finished a device check yet. Validate your device."),
    ),
    "device_check_judged": (
        409,
        N_(
            "This device check already has its result. Start a new check to test your device again."
        ),
    ),
    "stale_revision": (
        409,
        N_("A newer version of your text was saved meanwhile. Reload it before saving again."),
    ),
    "upload_too_large": (
        413,
        N_("The test upload is too large: at most {limit} bytes are accepted."),
    ),
    "rate_limited": (429, N_("Too many device check requests. Try again in {wait}.")),
}


NOT_AN_ACCOUNT = N_("This token does not name an account.")


def answer(refusal: Refusal) -> ApiError:
    """The refusal in the caller's language, with what the page needs to act on it."""
    language = request_language()
    status, words = ANSWERS[refusal.code]
    details = refusal.details
    if isinstance(refusal, UploadTooLarge):
        limit = details["limit"]
        return ApiError(
            status, refusal.code, CATALOG.say(words, language, limit=limit), max_bytes=limit
        )
    if isinstance(refusal, RateLimited):
        wait = details["retry_after"]
        error = ApiError(
            status,
            refusal.code,
            CATALOG.say(words, language, wait=seconds_words(wait, language)),
            retry_after=wait,
        )
        error.headers["Retry-After"] = str(wait)
        return error
    return ApiError(status, refusal.code, CATALOG.say(words, language), **details)


def _account() -> uuid.UUID:
    """The candidate of the bearer token, if its subject is an account id at all."""
    try:
        return uuid.UUID(current_claims().subject)
    except ValueError:
        words = CATALOG.say(NOT_AN_ACCOUNT, request_language())
        raise ApiError(403, "forbidden", words) from None


def _budgeted(account: uuid.UUID, nbytes: int, work: Callable[[Session], T]) -> T:
    """Count the request against the account's budget, then do ``work`` in the same
    transaction; refused, the count is still committed."""
    context = current_context(Context)

    def spend_then_work(session: Session) -> tuple[RateLimited | None, T | None]:
        limited = spend(session, account, nbytes, context.clock(), context.budget)
        return (limited, None) if limited is not None else (None, work(session))

    limited, done = in_transaction(context.sessions, spend_then_work, answer=answer)
    if limited is not None:
        raise answer(limited)
    return cast(T, done)


@blp.route("")
class DeviceChecks(MethodView):
    @require_role(CANDIDATE)
    @blp.response(201, RunSchema)
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def post(self) -> dict[str, Any]:
        """Start a device check run for the signed-in candidate."""
        context = current_context(Context)
        account = _account()
        row = _budgeted(
            account,
            0,
            lambda session: runs.start(session, account, context.thresholds, context.clock()),
        )
        return _run_json(row)


@blp.route("/speed/download")
class Download(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(DownloadQuerySchema, location="query")
    @blp.response(200, content_type="application/octet-stream")
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def get(self, query: dict[str, Any]) -> Response:
        """``bytes`` random bytes that no compressor can shrink, for the download speed."""
        account, size, check_id = _account(), query["bytes"], query.get("check_id")

        def serve(session: Session) -> None:
            if check_id is not None:
                runs.record_download(session, account, check_id, size)

        _budgeted(account, size, serve)
        response = Response(random_bytes(size), mimetype="application/octet-stream")
        response.content_length = size
        # no-transform asks proxies not to compress; Content-Encoding set at all makes the
        # compressing middleware that honours neither leave the body alone
        response.headers["Cache-Control"] = "no-store, no-transform"
        response.headers["Content-Encoding"] = "identity"
        return response


@blp.route("/speed/upload")
class Upload(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(CheckQuerySchema, location="query")
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(200, UploadReceiptSchema)
    @blp.alt_response(413, description="upload_too_large")
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def post(self, query: dict[str, Any]) -> dict[str, Any]:
        """Receive and drop up to 10 MiB, for the upload speed; the service times it too."""
        context = current_context(Context)
        account, check_id = _account(), query.get("check_id")
        declared = request.content_length
        if declared is not None and declared > MAX_BYTES:
            raise answer(UploadTooLarge(limit=MAX_BYTES))

        def admit(session: Session) -> None:
            if check_id is not None:
                runs.find_open(session, account, check_id)

        _budgeted(account, MAX_BYTES if declared is None else declared, admit)
        try:
            upload = read_upload(request.stream, MAX_BYTES, context.timer)
        except UploadTooLarge as refused:
            raise answer(refused) from None
        now = context.clock()
        if check_id is not None:
            in_transaction(
                context.sessions,
                lambda session: runs.record_upload(
                    session, account, check_id, upload.received, upload.bits_per_second
                ),
                answer=answer,
            )
        return {"received_bytes": upload.received, "received_at": now}


@blp.route("/speed/ping")
class Ping(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(CheckQuerySchema, location="query")
    @blp.response(204)
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def get(self, query: dict[str, Any]) -> None:
        """Nothing, as fast as possible: the browser times the round trip (latency)."""
        account, check_id = _account(), query.get("check_id")

        def ping(session: Session) -> None:
            if check_id is not None:
                runs.record_ping(session, account, check_id)

        _budgeted(account, 0, ping)


@blp.route("/document")
class Document(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(CheckQuerySchema, location="query")
    @blp.response(200, content_type="application/pdf")
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def get(self, query: dict[str, Any]) -> Response:
        """A one-page sample PDF, displayed the way exam documents are."""
        context = current_context(Context)
        account, check_id = _account(), query.get("check_id")

        def serve(session: Session) -> None:
            if check_id is not None:
                runs.record_document(session, account, check_id, context.clock())

        _budgeted(account, len(context.document), serve)
        response = Response(context.document, mimetype="application/pdf")
        response.headers["Content-Disposition"] = 'inline; filename="nexam-sample.pdf"'
        return response


@blp.route("/latest")
class Latest(MethodView):
    @require_role(CANDIDATE)
    @blp.response(200, ResultSchema)
    @blp.alt_response(404, description="no_device_check")
    def get(self) -> dict[str, Any]:
        """The candidate's latest result, and whether it is still valid."""
        context = current_context(Context)
        account = _account()
        row = in_transaction(
            context.sessions, lambda session: runs.latest(session, account), answer=answer
        )
        if row is None:
            raise answer(Refusal("no_device_check"))
        return _result_json(row, context.clock())


@blp.route("/<uuid:check_id>")
class Result(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(ResultsSchema)
    @blp.response(200, ResultSchema)
    @blp.alt_response(404, description="device_check_not_found")
    @blp.alt_response(409, description="device_check_judged")
    def put(self, body: dict[str, Any], check_id: uuid.UUID) -> dict[str, Any]:
        """Send the browser's results: the run is judged, once. A pass is valid for the
        configured days and announced as DeviceValidated."""
        context = current_context(Context)
        account, now = _account(), context.clock()
        row = in_transaction(
            context.sessions,
            lambda session: runs.judge_run(session, context.outbox, account, check_id, body, now),
            answer=answer,
        )
        return _result_json(row, now)


@blp.route("/<uuid:check_id>/autosave")
class Autosave(MethodView):
    @require_role(CANDIDATE)
    @blp.arguments(AutosaveSchema)
    @blp.response(200, SavedSchema)
    @blp.alt_response(404, description="device_check_not_found")
    @blp.alt_response(409, description="stale_revision or device_check_judged")
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def put(self, body: dict[str, Any], check_id: uuid.UUID) -> dict[str, Any]:
        """Save the writing check's text, as the exam's autosave does."""
        context = current_context(Context)
        account = _account()
        row = _budgeted(
            account,
            len(body["content"].encode()),
            lambda session: runs.autosave(
                session, account, check_id, body["content"], body["revision"], context.clock()
            ),
        )
        return {"revision": row.autosave_revision, "saved_at": row.autosaved_at}


def _run_json(row: Row[Any]) -> dict[str, Any]:
    measured = f"check_id={row.id}"
    return {
        "id": row.id,
        "started_at": row.started_at,
        "thresholds": row.thresholds,
        "transfer_limits": {"min_bytes": MIN_BYTES, "max_bytes": MAX_BYTES},
        "download_url": f"{PREFIX}/speed/download?{measured}",
        "upload_url": f"{PREFIX}/speed/upload?{measured}",
        "latency_url": f"{PREFIX}/speed/ping?{measured}",
        "document_url": f"{PREFIX}/document?{measured}",
        "autosave_url": f"{PREFIX}/{row.id}/autosave",
        "result_url": f"{PREFIX}/{row.id}",
    }


def _result_json(row: Row[Any], now: datetime) -> dict[str, Any]:
    language = request_language()
    return {
        "id": row.id,
        "started_at": row.started_at,
        "judged_at": row.judged_at,
        "passed": row.passed,
        "failures": [explain(Failure.from_json(f), language) for f in row.failures or []],
        "valid_until": row.valid_until,
        "valid": runs.valid(row, now),
    }
