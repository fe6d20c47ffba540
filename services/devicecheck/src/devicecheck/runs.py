"""The use cases of a device check run: start it, record what the service sees of it while
it runs, save the writing check's text, judge it once, and find the latest result. Each
takes the session of a transaction its caller commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, insert, select, update
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.runtime.refusals import Refusal
from devicecheck.judging import Evidence, Report, judge
from devicecheck.store import changed_rows, device_checks
from devicecheck.thresholds import Thresholds

runs = device_checks


class RunNotFound(Refusal):
    """No such run for this account: another account's run is not found either."""

    code = "device_check_not_found"


class RunJudged(Refusal):
    """The run has its result; it takes nothing more."""

    code = "device_check_judged"


class StaleRevision(Refusal):
    """The text was saved meanwhile; ``revision`` is the current one."""

    code = "stale_revision"


def start(
    session: Session, account_id: uuid.UUID, thresholds: Thresholds, now: datetime
) -> Row[Any]:
    check_id = uuid.uuid4()
    session.execute(
        insert(runs).values(
            id=check_id,
            account_id=account_id,
            started_at=now,
            thresholds=thresholds.as_dict(),
            downloaded_bytes=0,
            uploaded_bytes=0,
            upload_bps=None,
            pings=0,
            autosave_revision=0,
        )
    )
    return find(session, account_id, check_id)


def find(session: Session, account_id: uuid.UUID, check_id: uuid.UUID) -> Row[Any]:
    row = session.execute(
        select(runs).where(runs.c.id == check_id, runs.c.account_id == account_id)
    ).first()
    if row is None:
        raise RunNotFound()
    return row


def find_open(session: Session, account_id: uuid.UUID, check_id: uuid.UUID) -> Row[Any]:
    row = find(session, account_id, check_id)
    if row.judged_at is not None:
        raise RunJudged()
    return row


def latest(session: Session, account_id: uuid.UUID) -> Row[Any] | None:
    """The account's most recently judged run."""
    return session.execute(
        select(runs)
        .where(runs.c.account_id == account_id, runs.c.judged_at.is_not(None))
        .order_by(runs.c.judged_at.desc(), runs.c.started_at.desc())
        .limit(1)
    ).first()


def record_download(
    session: Session, account_id: uuid.UUID, check_id: uuid.UUID, nbytes: int
) -> None:
    _record(session, account_id, check_id, downloaded_bytes=runs.c.downloaded_bytes + nbytes)


def record_upload(
    session: Session,
    account_id: uuid.UUID,
    check_id: uuid.UUID,
    nbytes: int,
    bits_per_second: int | None,
) -> None:
    values: dict[str, Any] = {"uploaded_bytes": runs.c.uploaded_bytes + nbytes}
    if bits_per_second is not None:
        slower = runs.c.upload_bps.is_(None) | (runs.c.upload_bps < bits_per_second)
        values["upload_bps"] = case((slower, bits_per_second), else_=runs.c.upload_bps)
    _record(session, account_id, check_id, **values)


def record_ping(session: Session, account_id: uuid.UUID, check_id: uuid.UUID) -> None:
    _record(session, account_id, check_id, pings=runs.c.pings + 1)


def record_document(
    session: Session, account_id: uuid.UUID, check_id: uuid.UUID, now: datetime
) -> None:
    _record(session, account_id, check_id, document_served_at=now)


def autosave(
    session: Session,
    account_id: uuid.UUID,
    check_id: uuid.UUID,
    content: str,
    revision: int,
    now: datetime,
) -> Row[Any]:
    """Save the writing check's text over ``revision``, the one the browser last had; a
    save over an older one is refused, as the exam's autosave does."""
    saved = changed_rows(
        session,
        update(runs)
        .where(*_open(account_id, check_id), runs.c.autosave_revision == revision)
        .values(autosave_revision=revision + 1, autosave_content=content, autosaved_at=now),
    )
    row = find(session, account_id, check_id)
    if not saved:
        if row.judged_at is not None:
            raise RunJudged()
        raise StaleRevision(revision=row.autosave_revision)
    return row


def judge_run(
    session: Session,
    outbox: Outbox,
    account_id: uuid.UUID,
    check_id: uuid.UUID,
    report: dict[str, Any],
    now: datetime,
) -> Row[Any]:
    """Judge the run on the browser's report, once; a pass publishes DeviceValidated in
    the same transaction. The run is claimed by its first statement, so a second report
    sent at the same moment finds it judged (and SQLite takes its write lock at once)."""
    _record(session, account_id, check_id, judged_at=now)
    row = find(session, account_id, check_id)
    thresholds = Thresholds.from_dict(row.thresholds)
    verdict = judge(Report.from_json(report), _evidence(row), thresholds)
    valid_until = now + thresholds.validity if verdict.passed else None
    session.execute(
        update(runs)
        .where(runs.c.id == check_id)
        .values(
            passed=verdict.passed,
            report=report,
            failures=[f.as_json() for f in verdict.failures],
            valid_until=valid_until,
        )
    )
    if verdict.passed:
        _announce(session, outbox, row, report, valid_until, now)
    return find(session, account_id, check_id)


def valid(row: Row[Any], now: datetime) -> bool:
    """A passed run counts until its validity ends."""
    return bool(row.passed) and row.valid_until is not None and now < row.valid_until


def _evidence(row: Row[Any]) -> Evidence:
    return Evidence(
        downloaded_bytes=row.downloaded_bytes,
        uploaded_bytes=row.uploaded_bytes,
        upload_mbps=row.upload_bps / 1_000_000 if row.upload_bps is not None else None,
        pings=row.pings,
        document_served=row.document_served_at is not None,
        autosaves=row.autosave_revision,
    )


def _announce(
    session: Session,
    outbox: Outbox,
    row: Row[Any],
    report: dict[str, Any],
    valid_until: datetime | None,
    now: datetime,
) -> None:
    outbox.add(
        session,
        "DeviceValidated",
        {
            "check_id": str(row.id),
            "account_id": str(row.account_id),
            "browser": {
                "name": report["browser"]["name"],
                "version": report["browser"]["version"],
            },
            "validated_at": now,
            "valid_until": valid_until,
        },
        correlation_id=str(row.id),
    )


def _open(account_id: uuid.UUID, check_id: uuid.UUID) -> tuple[Any, ...]:
    return (runs.c.id == check_id, runs.c.account_id == account_id, runs.c.judged_at.is_(None))


def _record(session: Session, account_id: uuid.UUID, check_id: uuid.UUID, **values: Any) -> None:
    """Update the account's run while it is open; say why not otherwise."""
    if changed_rows(session, update(runs).where(*_open(account_id, check_id)).values(**values)):
        return
    find(session, account_id, check_id)  # raises RunNotFound
    raise RunJudged()
