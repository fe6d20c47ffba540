"""The candidate's device check API (DESIGN section 6): parse, call a use case, dump.

Every request that makes the service work for the browser (a run, a download, an upload, a
ping, the document, an autosave) counts against the account's budget; see ``budget``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Row
from sqlalchemy.orm import Session

from contracts.runtime.auth import require_role
from contracts.runtime.errors import ApiError, error_response
from devicecheck import runs
from devicecheck.budget import RateLimited, spend
from devicecheck.context import account_id, ctx, request_language
from devicecheck.judging import Failure
from devicecheck.messages import explain, say, seconds_words
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

PREFIX = "/api/v1/device-checks"
CANDIDATE = "candidate"

T = TypeVar("T")

blp = Blueprint("device_checks", __name__, url_prefix=PREFIX, description="Device check")

UPLOAD_BODY = {
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


def _account() -> uuid.UUID:
    account = account_id()
    if account is None:
        raise ApiError(403, "forbidden", say("not_an_account", request_language()))
    return account


def _budgeted(account: uuid.UUID, nbytes: int, work: Callable[[Session], T]) -> T:
    """Count the request against the account's budget, then do ``work`` in the same
    transaction; refused, the count is still committed."""
    context = ctx()
    with context.sessions() as session, session.begin():
        limited = spend(session, account, nbytes, context.clock(), context.budget)
        if limited is None:
            return work(session)
    raise limited


@blp.route("")
class DeviceChecks(MethodView):
    @require_role(CANDIDATE)
    @blp.response(201, RunSchema)
    @blp.alt_response(429, description="rate_limited, with Retry-After")
    def post(self) -> dict[str, Any]:
        """Start a device check run for the signed-in candidate."""
        context = ctx()
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
        context = ctx()
        account, check_id = _account(), query.get("check_id")
        declared = request.content_length
        if declared is not None and declared > MAX_BYTES:
            raise UploadTooLarge(MAX_BYTES)

        def admit(session: Session) -> None:
            if check_id is not None:
                runs.find_open(session, account, check_id)

        _budgeted(account, MAX_BYTES if declared is None else declared, admit)
        upload = read_upload(request.stream, MAX_BYTES, context.timer)
        now = context.clock()
        if check_id is not None:
            with context.sessions() as session, session.begin():
                runs.record_upload(
                    session, account, check_id, upload.received, upload.bits_per_second
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
        context = ctx()
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
        context = ctx()
        account = _account()
        with context.sessions() as session:
            row = runs.latest(session, account)
        if row is None:
            raise ApiError(404, "no_device_check", say("no_device_check", request_language()))
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
        context = ctx()
        account, now = _account(), context.clock()
        with context.sessions() as session, session.begin():
            row = runs.judge_run(session, context.outbox, account, check_id, body, now)
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
        context = ctx()
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


def _refusal(status: int, error: str, **extra: Any) -> Response:
    return error_response(status, error, say(error, request_language()), **extra)


@blp.errorhandler(runs.RunNotFound)
def _run_not_found(_refused: runs.RunNotFound) -> Response:
    return _refusal(404, "device_check_not_found")


@blp.errorhandler(runs.RunJudged)
def _run_judged(_refused: runs.RunJudged) -> Response:
    return _refusal(409, "device_check_judged")


@blp.errorhandler(runs.StaleRevision)
def _stale_revision(refused: runs.StaleRevision) -> Response:
    return _refusal(409, "stale_revision", revision=refused.current)


@blp.errorhandler(UploadTooLarge)
def _upload_too_large(refused: UploadTooLarge) -> Response:
    return error_response(
        413,
        "upload_too_large",
        say("upload_too_large", request_language(), limit=refused.limit),
        max_bytes=refused.limit,
    )


@blp.errorhandler(RateLimited)
def _rate_limited(refused: RateLimited) -> Response:
    language = request_language()
    response = error_response(
        429,
        "rate_limited",
        say("rate_limited", language, wait=seconds_words(refused.retry_after, language)),
        retry_after=refused.retry_after,
    )
    response.headers["Retry-After"] = str(refused.retry_after)
    return response
