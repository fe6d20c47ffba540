"""Identity's rules with no I/O: the activation steps' order, an account's ways in, the
throttle's delays, and which refusal answers with which status."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from identity.api import ANSWERS
from identity.domain import (
    STEPS,
    StepOutOfOrder,
    TooManyAttempts,
    require_open,
    steps_of,
    ways_in,
)
from identity.throttle import delay_after


def account(**done: object) -> SimpleNamespace:
    fields = ("password_hash", "language", "terms_accepted_at", "two_factor", "activated_with")
    return SimpleNamespace(**{name: done.get(name) for name in fields})


def test_a_step_opens_once_every_step_before_it_is_done() -> None:
    fresh = account()
    require_open(fresh, "password")
    with pytest.raises(StepOutOfOrder) as refused:
        require_open(fresh, "terms")
    assert refused.value.code == "step_out_of_order"
    assert refused.value.details["missing"] == ["password", "language"]
    require_open(account(password_hash="h", language="fr"), "terms")


def test_the_steps_are_listed_in_order_with_what_is_done() -> None:
    assert steps_of(account(password_hash="h")) == [
        {"name": step, "done": step == "password"} for step in STEPS
    ]


def test_the_ways_in_are_the_password_and_each_partner_sorted() -> None:
    assert ways_in(True, []) == ["password"]
    assert ways_in(True, ["microsoft", "google"]) == ["google", "microsoft", "password"]
    assert ways_in(False, ["google"]) == ["google"]
    assert ways_in(False, []) == []


def test_five_failures_are_free_then_delays_double_up_to_fifteen_minutes() -> None:
    assert [delay_after(n) for n in range(5)] == [None] * 5
    assert delay_after(5) == timedelta(seconds=2)
    assert delay_after(6) == timedelta(seconds=4)
    assert delay_after(100) == timedelta(minutes=15)


def test_every_refusal_has_an_answer_and_knows_nothing_of_http() -> None:
    refusal = TooManyAttempts(retry_after=30)
    assert (refusal.code, refusal.details) == ("too_many_attempts", {"retry_after": 30})
    assert ANSWERS[TooManyAttempts][0] == 429
    assert all(400 <= status < 500 for status, _text in ANSWERS.values())
