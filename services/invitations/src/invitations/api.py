"""The coordinator API (DESIGN section 6): parse, call a use case, dump."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.runtime.auth import current_claims, require_role
from contracts.runtime.errors import ApiError
from invitations import batches as batch_cases
from invitations import service
from invitations.domain import InvitationStateError, csv_safe
from invitations.roster import COLUMNS, RosterProblem, read_roster
from invitations.schemas import (
    BatchAcceptedSchema,
    BatchSchema,
    InvitationCreateSchema,
    InvitationPageSchema,
    InvitationQuerySchema,
    InvitationSchema,
)
from invitations.service import Candidate, Issuer, NotFound

COORDINATORS = ("coordinator", "api_client")
EXTENSION = "nexam.invitations"

blp = Blueprint(
    "invitations", __name__, url_prefix="/api/v1/invitations", description="Coordinator API"
)


class Context:
    """What the views need, set on the app by the factory."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        issuer: Issuer,
        clock: Callable[[], datetime],
        max_rows: int,
    ) -> None:
        self.sessions = sessions
        self.issuer = issuer
        self.clock = clock
        self.max_rows = max_rows


def ctx() -> Context:
    context: Context = current_app.extensions[EXTENSION]
    return context


def institution() -> uuid.UUID:
    claims = current_claims()
    try:
        return uuid.UUID(str(claims.institution))
    except ValueError:
        raise ApiError(403, "forbidden", "This token is not tied to an institution.") from None


def not_found() -> ApiError:
    return ApiError(404, "not_found", "No such invitation.")


@blp.route("")
class InvitationCollection(MethodView):
    @require_role(*COORDINATORS)
    @blp.arguments(InvitationCreateSchema)
    @blp.response(201, InvitationSchema)
    @blp.alt_response(
        200, schema=InvitationSchema, description="Already invited: the standing invitation"
    )
    def post(self, body: dict[str, Any]) -> Any:
        """Invite one candidate to an evaluation."""
        candidate = Candidate.from_row(
            {
                **body,
                "evaluation_ref": body["evaluation"]["ref"],
                "evaluation_name": body["evaluation"]["name"],
            }
        )
        context = ctx()
        try:
            with context.sessions() as session, session.begin():
                (result,) = context.issuer.issue(
                    session, institution(), [candidate], context.clock()
                )
        except IntegrityError:  # the same person was invited at the same moment elsewhere
            with context.sessions() as session, session.begin():
                (result,) = context.issuer.issue(
                    session, institution(), [candidate], context.clock()
                )
        status = 200 if result.outcome == "skipped" else 201
        return service.as_json(result.invitation), status

    @require_role(*COORDINATORS)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List invitations, newest first, with filters and a cursor."""
        limit = query["limit"]
        status = query.get("status")
        with ctx().sessions() as session:
            rows = service.page(
                session,
                institution(),
                status=status.value if status else None,
                evaluation=query.get("evaluation"),
                email=query.get("email"),
                after=_decode_cursor(query["cursor"]) if query.get("cursor") else None,
                limit=limit + 1,
            )
        more = len(rows) > limit  # one row past the page says whether another page exists
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1]) if more else None
        return {"items": [service.as_json(r) for r in rows], "next_cursor": next_cursor}


ROSTER_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    },
}


@blp.route("/bulk")
class BulkInvitations(MethodView):
    @require_role(*COORDINATORS)
    @blp.doc(requestBody=ROSTER_BODY)
    @blp.response(202, BatchAcceptedSchema)
    def post(self) -> dict[str, Any]:
        """Invite a roster (CSV with a header row, or a JSON list); processed in the background."""
        context = ctx()
        try:
            roster = read_roster(
                request.get_data(cache=False),
                request.content_type or "",
                max_rows=context.max_rows,
            )
        except RosterProblem as problem:
            raise ApiError(
                problem.status, problem.error, problem.message, **problem.details
            ) from None
        with context.sessions() as session, session.begin():
            batch_id = batch_cases.accept_roster(session, institution(), roster, context.clock())
        return {"batch_id": batch_id, "accepted": len(roster.rows), "rejected": roster.rejected}


@blp.route("/batches/<uuid:batch_id>")
class BatchResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, BatchSchema)
    def get(self, batch_id: uuid.UUID) -> Any:
        """Progress of a roster: rows processed, issued, enrolled, skipped, rejected."""
        with ctx().sessions() as session:
            batch = batch_cases.find_batch(session, institution(), batch_id)
        if batch is None:
            raise ApiError(404, "not_found", "No such batch.")
        return batch


@blp.route("/export")
class InvitationExport(MethodView):
    @require_role(*COORDINATORS)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, query: dict[str, Any]) -> Response:
        """The institution's invitations as CSV; every cell is quoted, and what a spreadsheet
        would run as a formula, whatever separator it splits on, is neutralised."""
        status = query.get("status")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # with csv_safe on every cell (OWASP)
        writer.writerow([*COLUMNS, "status", "email_status", "expires_at", "id"])
        after = None
        with ctx().sessions() as session:
            while True:
                rows = service.page(
                    session,
                    institution(),
                    status=status.value if status else None,
                    evaluation=query.get("evaluation"),
                    email=query.get("email"),
                    after=after,
                    limit=1000,
                )
                for r in rows:
                    writer.writerow(
                        [
                            csv_safe(str(v))
                            for v in (
                                r.email,
                                r.first_name,
                                r.last_name,
                                r.evaluation_ref,
                                r.evaluation_name,
                                r.language,
                                r.status,
                                r.email_status,
                                r.expires_at.isoformat() if r.expires_at else "",
                                r.id,
                            )
                        ]
                    )
                if len(rows) < 1000:
                    break
                after = (rows[-1].created_at, rows[-1].id)
        response = Response(out.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="invitations.csv"'
        return response


@blp.route("/<uuid:invitation_id>")
class InvitationResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def get(self, invitation_id: uuid.UUID) -> Any:
        """One invitation of the caller's institution."""
        with ctx().sessions() as session:
            try:
                return service.as_json(service.find(session, institution(), invitation_id))
            except NotFound:
                raise not_found() from None


def _change(
    action: Callable[[Session, uuid.UUID, uuid.UUID, datetime], Any], invitation_id: uuid.UUID
) -> Any:
    context = ctx()
    try:
        with context.sessions() as session, session.begin():
            row = action(session, institution(), invitation_id, context.clock())
    except NotFound:
        raise not_found() from None
    except InvitationStateError as exc:
        raise ApiError(409, exc.error, exc.message) from None
    except IntegrityError:  # another change to the same invitation won the race
        raise ApiError(409, "conflict", "The invitation changed meanwhile; try again.") from None
    return service.as_json(row)


@blp.route("/<uuid:invitation_id>/resend")
class InvitationResend(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Send a new code, valid 30 days; the previous code stops working."""
        return _change(ctx().issuer.resend, invitation_id)


@blp.route("/<uuid:invitation_id>/revoke")
class InvitationRevoke(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Withdraw an invitation; its code stops working."""
        return _change(ctx().issuer.revoke, invitation_id)


def _encode_cursor(row: Any) -> str:
    raw = json.dumps([row.created_at.isoformat(), str(row.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(last_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ApiError(
            400, "bad_cursor", "This cursor is not valid; start from the first page."
        ) from None
