"""The coordinator API (DESIGN section 6): parse, call a use case in a transaction, turn its
refusals into answers in the caller's language, dump."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from contracts.events.clock import Clock
from contracts.runtime.auth import current_claims, require_role
from contracts.runtime.cursor import decode_cursor, encode_cursor
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from contracts.runtime.refusals import Refusal
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from contracts.runtime.translations import N_, Catalog
from invitations import domain as d
from invitations.batches import accept_roster, find_batch
from invitations.config import Settings
from invitations.domain import Candidate, csv_safe
from invitations.issuing import Issuing, issue_invitations, resend_invitation, revoke_invitation
from invitations.listing import describe, every_invitation, find_invitation, list_invitations
from invitations.roster import COLUMNS, read_roster
from invitations.schemas import (
    BatchAcceptedSchema,
    BatchSchema,
    InvitationCreateSchema,
    InvitationPageSchema,
    InvitationQuerySchema,
    InvitationSchema,
)

COORDINATORS = ("coordinator", "api_client")
T = TypeVar("T")

blp = Blueprint(
    "invitations", __name__, url_prefix="/api/v1/invitations", description="Coordinator API"
)


@dataclass(frozen=True)
class Context:
    """What the views are given, set by the factory."""

    sessions: sessionmaker[Session]
    issuing: Issuing
    clock: Clock
    settings: Settings


# -- refusals as answers -----------------------------------------------------------------------

catalog = Catalog("invitations")

#: a refusal's status, its text, and the details the answer carries besides the text
ANSWERS: dict[type[Refusal], tuple[int, str, tuple[str, ...]]] = {
    d.InvitationNotFound: (404, N_("No such invitation."), ()),
    d.BatchNotFound: (404, N_("No such batch."), ()),
    d.NoInstitution: (403, N_("This token is not tied to an institution."), ()),
    d.BadCursor: (400, N_("This cursor is not valid; start from the first page."), ()),
    d.InvitationChanged: (409, N_("The invitation changed meanwhile; try again."), ()),
    d.CannotResendRevoked: (409, N_("This invitation is revoked; it cannot be sent again."), ()),
    d.CannotResendActivated: (
        409,
        N_("This invitation is activated; it cannot be sent again."),
        (),
    ),
    d.CannotRevokeActivated: (
        409,
        N_("The account is already activated; revoke is not possible."),
        (),
    ),
    d.AlreadyRevoked: (409, N_("This invitation is already revoked."), ()),
    d.InvitationReplaced: (
        409,
        N_("A newer invitation for this person and evaluation exists; resend that one."),
        (),
    ),
    d.RosterNotCsvOrJson: (415, N_("Send the roster as text/csv or as a JSON list."), ()),
    d.RosterTooLarge: (
        413,
        N_("A roster holds at most {max_rows} rows; split this one."),
        ("rows",),
    ),
    d.RosterWithoutRows: (400, N_("The roster has no rows."), ()),
    d.RosterFileEmpty: (400, N_("The file is empty."), ()),
    d.RosterNotUtf8: (400, N_("The file is not UTF-8. Save it as “CSV UTF-8” and retry."), ()),
    d.RosterJsonInvalid: (400, N_("The JSON is not valid: {reason}."), ()),
    d.RosterNotAList: (400, N_("Send a JSON list of candidates."), ()),
    d.RosterCsvUnreadable: (400, N_("The CSV cannot be read: {reason}."), ()),
    d.RosterHeaderWrong: (
        400,
        N_("The first row must name the columns: {columns} (language optional)."),
        ("missing", "unknown"),
    ),
}


def answer(refusal: Refusal, language: str | None = None) -> ApiError:
    """The HTTP answer to a refusal, in ``language`` (by default the caller's)."""
    status, message, shown = ANSWERS[type(refusal)]
    text = catalog.say(message, language or request_language(), **refusal.details)
    return ApiError(status, refusal.code, text, **{k: refusal.details[k] for k in shown})


# -- what views share --------------------------------------------------------------------------


def ctx() -> Context:
    return current_context(Context)


def institution() -> uuid.UUID:
    """The caller's institution."""
    try:
        return uuid.UUID(str(current_claims().institution))
    except ValueError:
        raise answer(d.NoInstitution()) from None


def run(work: Callable[[Session], T], *, retry_on_conflict: bool = False) -> T:
    return in_transaction(ctx().sessions, work, answer=answer, retry_on_conflict=retry_on_conflict)


def change(work: Callable[[Session], T]) -> T:
    """``run`` for a change of one invitation: another change winning the race is a 409."""
    try:
        return run(work)
    except ApiError as error:
        if error.error != "conflict":
            raise
        raise answer(d.InvitationChanged()) from None


def as_json(row: Row[Any] | Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    data["evaluation"] = {"ref": data["evaluation_ref"], "name": data["evaluation_name"]}
    return data


def after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) a cursor carries."""
    if not cursor:
        return None
    try:
        created, last_id = decode_cursor(cursor, datetime, uuid.UUID)
    except ApiError:
        raise answer(d.BadCursor()) from None
    if created.tzinfo is None:
        raise answer(d.BadCursor())
    return created, last_id


def filters(query: Mapping[str, Any]) -> dict[str, Any]:
    status = query.get("status")
    return {
        "status": status.value if status else None,
        "evaluation": query.get("evaluation"),
        "email": query.get("email"),
    }


# -- views -------------------------------------------------------------------------------------


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
        context, owner = ctx(), institution()

        def invite(session: Session) -> tuple[str, dict[str, Any]]:
            (result,) = issue_invitations(
                session, context.issuing, owner, [candidate], context.clock()
            )
            return result.outcome, describe(session, result.invitation)

        # the same person invited at the same moment elsewhere: the retry finds that one
        outcome, invitation = run(invite, retry_on_conflict=True)
        return as_json(invitation), 200 if outcome == "skipped" else 201

    @require_role(*COORDINATORS)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List invitations, newest first, with filters and a cursor."""
        limit = query["limit"]
        owner, start = institution(), after(query.get("cursor"))
        rows = run(
            lambda s: list_invitations(s, owner, **filters(query), after=start, limit=limit + 1)
        )
        more = len(rows) > limit  # one row past the page says whether another page exists
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
        return {"items": [as_json(r) for r in rows], "next_cursor": next_cursor}


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
                max_rows=context.settings.bulk_max_rows,
            )
        except d.RosterProblem as problem:
            raise answer(problem) from None
        owner = institution()
        batch_id = run(lambda s: accept_roster(s, owner, roster, context.clock()))
        return {"batch_id": batch_id, "accepted": len(roster.rows), "rejected": roster.rejected}


@blp.route("/batches/<uuid:batch_id>")
class BatchResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, BatchSchema)
    def get(self, batch_id: uuid.UUID) -> Any:
        """Progress of a roster: rows processed, issued, enrolled, skipped, rejected."""
        owner = institution()
        return run(lambda s: find_batch(s, owner, batch_id))


@blp.route("/export")
class InvitationExport(MethodView):
    @require_role(*COORDINATORS)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, query: dict[str, Any]) -> Response:
        """The institution's invitations as CSV; every cell is quoted, and what a spreadsheet
        would run as a formula, whatever separator it splits on, is neutralised."""
        owner = institution()
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # with csv_safe on every cell (OWASP)
        writer.writerow([*COLUMNS, "status", "email_status", "expires_at", "id", "sign_in_methods"])

        def write(session: Session) -> None:
            for r in every_invitation(session, owner, **filters(query)):
                cells = (
                    r["email"],
                    r["first_name"],
                    r["last_name"],
                    r["evaluation_ref"],
                    r["evaluation_name"],
                    r["language"],
                    r["status"],
                    r["email_status"],
                    r["expires_at"].isoformat() if r["expires_at"] else "",
                    r["id"],
                    " ".join(r["sign_in_methods"]),
                )
                writer.writerow([csv_safe(str(v)) for v in cells])

        run(write)
        response = Response(out.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="invitations.csv"'
        return response


@blp.route("/<uuid:invitation_id>")
class InvitationResource(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def get(self, invitation_id: uuid.UUID) -> Any:
        """One invitation of the caller's institution."""
        owner = institution()
        return as_json(run(lambda s: find_invitation(s, owner, invitation_id)))


@blp.route("/<uuid:invitation_id>/resend")
class InvitationResend(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Send a new code, valid 30 days; the previous code stops working."""
        context, owner = ctx(), institution()
        return as_json(
            change(
                lambda s: describe(
                    s, resend_invitation(s, context.issuing, owner, invitation_id, context.clock())
                )
            )
        )


@blp.route("/<uuid:invitation_id>/revoke")
class InvitationRevoke(MethodView):
    @require_role(*COORDINATORS)
    @blp.response(200, InvitationSchema)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Withdraw an invitation; its code stops working."""
        context, owner = ctx(), institution()
        return as_json(
            change(
                lambda s: describe(
                    s,
                    revoke_invitation(
                        s, context.issuing.outbox, owner, invitation_id, context.clock()
                    ),
                )
            )
        )
