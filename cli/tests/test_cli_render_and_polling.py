"""Parts of ``nexam`` that need no server: the field errors of a rejected row, and
following a batch through a stall and a failed poll."""

from __future__ import annotations

from typing import Any

from nexam_cli.errors import Unreachable
from nexam_cli.polling import wait_for_batch
from nexam_cli.render import field_errors


def test_field_errors_flattens_nested_messages() -> None:
    errors = {"_row": ["Not an object."], "evaluation": {"ref": ["Required."]}, "email": "Bad."}

    assert field_errors(errors) == [
        ("_row", "Not an object."),
        ("evaluation.ref", "Required."),
        ("email", "Bad."),
    ]


class FakeBatches:
    """Answers of GET /batches/{id} in turn; an exception instance is raised instead."""

    def __init__(self, answers: list[dict[str, Any] | Exception]) -> None:
        self.answers = answers

    def batch(self, _batch_id: str) -> dict[str, Any]:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def batch_state(processed: int, status: str = "processing") -> dict[str, Any]:
    return {"batch_id": "b", "status": status, "accepted": 4, "processed": processed}


def test_waiting_notices_a_stall_and_rides_out_a_failed_poll() -> None:
    now = [0.0]
    client = FakeBatches(
        [
            batch_state(0),
            batch_state(2),
            Unreachable("restarting"),
            batch_state(2),
            batch_state(2),
            batch_state(2),
            batch_state(4, "completed"),
        ]
    )
    seen: list[int] = []
    stalls: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += 10 + seconds

    done = wait_for_batch(
        client,  # type: ignore[arg-type]
        "b",
        on_progress=lambda b: seen.append(b["processed"]),
        on_stall=stalls.append,
        stall_after=25,
        clock=lambda: now[0],
        sleep=sleep,
    )

    assert done["status"] == "completed"
    assert seen == [0, 2, 2, 2, 2, 4]
    assert len(stalls) == 1 and stalls[0] >= 25
