"""Every view's unit of work: one transaction around one use case, its refusals turned into
answers by the service that knows their status and their words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.runtime.errors import ApiError
from contracts.runtime.refusals import Refusal

T = TypeVar("T")
#: a service's way of answering one of its refusals: status, code, translated text
Answer = Callable[[Refusal], ApiError]


def in_transaction(
    sessions: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    answer: Answer,
    retry_on_conflict: bool = False,
) -> T:
    """Run ``work`` in one transaction and return what it returns. A refusal rolls back and
    becomes ``answer(refusal)``. A unique key taken meanwhile by a concurrent request is a
    409, or, with ``retry_on_conflict``, one more run of ``work``, which then finds what the
    other request made (a double click)."""
    try:
        try:
            with sessions() as session, session.begin():
                return work(session)
        except IntegrityError:
            if not retry_on_conflict:
                raise ApiError(409, "conflict", "This changed meanwhile; try again.") from None
            with sessions() as session, session.begin():
                return work(session)
    except Refusal as refusal:
        raise answer(refusal) from None
