"""The per-account rate limit of the device check: so many requests and so many bytes per
fixed window (a minute by default).

Counted in the service's database, not in process memory: the service runs several worker
processes and replicas, and a count per process would multiply the limit by their number.
One statement counts and reads back, so parallel requests cannot both see room for one."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from sqlalchemy import case, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.runtime.database import UtcDateTime
from contracts.runtime.refusals import Refusal
from devicecheck.config import RequestBudget
from devicecheck.store import request_budgets


class RateLimited(Refusal):
    """The account's budget is spent; ``retry_after`` seconds until the window ends."""

    code = "rate_limited"


def spend(
    session: Session, account_id: uuid.UUID, nbytes: int, now: datetime, budget: RequestBudget
) -> RateLimited | None:
    """Count one request of ``nbytes`` for the account; what to refuse it with if that goes
    past the budget. Returned, not raised, so that the caller commits the count: a refused
    request counts too, and asking again at once does not help."""
    table = request_budgets
    moment = literal(now, UtcDateTime())
    # in ON CONFLICT DO UPDATE the table's columns are the stored row's values
    expired = table.c.window_started_at <= now - budget.window
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(account_id=account_id, window_started_at=now, requests=1, bytes=nbytes)
        .on_conflict_do_update(
            index_elements=[table.c.account_id],
            set_={
                "window_started_at": case((expired, moment), else_=table.c.window_started_at),
                "requests": case((expired, 1), else_=table.c.requests + 1),
                "bytes": case((expired, nbytes), else_=table.c.bytes + nbytes),
            },
        )
        .returning(table.c.window_started_at, table.c.requests, table.c.bytes)
    )
    started, requests, spent = session.execute(statement).one()
    if requests > budget.requests or spent > budget.bytes:
        left = (started + budget.window - now).total_seconds()
        return RateLimited(retry_after=max(1, math.ceil(left)))
    return None
