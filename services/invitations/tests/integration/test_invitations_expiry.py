"""The expiry sweep with an injected clock: pending codes expire at their time, each one
announced once, never early, and never twice even with several sweepers at once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from invitations_testkit import START, World
from sqlalchemy import select

from invitations.domain import Candidate, code_digest
from invitations.issuing import expire_invitations, issue_invitations
from invitations.jobs import jobs
from invitations.store import invitations

THIRTY_DAYS = timedelta(days=30)
SECOND = timedelta(seconds=1)


# -- the sweep -------------------------------------------------------------------------------------


def test_pending_codes_expire_at_their_time_each_announced_once(world: World) -> None:
    first = world.invited("ada@example.org")
    world.clock.set(START + timedelta(hours=1))
    second = world.invited("bob@example.org")
    world.clock.set(START + timedelta(hours=2))
    third = world.invited("carl@example.org")

    world.clock.set(START + THIRTY_DAYS - SECOND)
    assert world.sweep() == 0
    assert world.events("CodeExpired") == []
    assert world.get(first["id"])["status"] == "pending"

    at = world.clock.set(START + THIRTY_DAYS)
    assert world.sweep() == 1
    (expired,) = world.events("CodeExpired")
    assert expired["data"] == {
        "invitation_id": first["id"],
        "institution_id": str(world.institution),
        "email": "ada@example.org",
        "expired_at": at.isoformat(),
    }
    got = world.get(first["id"])
    assert got["status"] == "expired"
    assert got["updated_at"] == at.isoformat()
    assert world.digest_of(first["id"]) is None
    assert world.get(second["id"])["status"] == "pending"

    world.clock.set(START + THIRTY_DAYS + timedelta(hours=5))
    assert world.sweep() == 2
    assert world.sweep() == 0
    world.clock.set(START + 3 * THIRTY_DAYS)
    assert world.sweep() == 0

    announced = [e["data"]["invitation_id"] for e in world.events("CodeExpired")]
    assert announced == [first["id"], second["id"], third["id"]]
    listing = world.client.get(
        "/api/v1/invitations?status=expired", headers=world.auth()
    ).get_json()
    assert {i["id"] for i in listing["items"]} == {first["id"], second["id"], third["id"]}


def test_only_pending_invitations_expire(world: World) -> None:
    revoked = world.invited("rev@example.org")
    assert world.post(revoked["id"], "revoke").status_code == 200
    activated = world.invited("act@example.org")
    world.activate("act@example.org", activated["id"])
    world.activate("enr@example.org")
    enrolled = world.invited("enr@example.org")
    assert enrolled["status"] == "enrolled"
    pending = world.invited("pen@example.org")

    world.clock.set(START + 2 * THIRTY_DAYS)
    assert world.sweep() == 1

    assert [e["data"]["invitation_id"] for e in world.events("CodeExpired")] == [pending["id"]]
    assert world.get(revoked["id"])["status"] == "revoked"
    assert world.get(activated["id"])["status"] == "activated"
    assert world.get(enrolled["id"])["status"] == "enrolled"


def test_resend_after_expiry_is_pending_again_for_thirty_days(world: World) -> None:
    created = world.invited("ada@example.org")
    world.clock.set(START + THIRTY_DAYS)
    assert world.sweep() == 1

    later = world.clock.set(START + THIRTY_DAYS + timedelta(days=3))
    response = world.post(created["id"], "resend")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["expires_at"] == (later + THIRTY_DAYS).isoformat()
    resent = world.events("InvitationIssued")[-1]["data"]
    assert resent["resent"] is True
    assert resent["expires_at"] == (later + THIRTY_DAYS).isoformat()
    assert world.digest_of(created["id"]) == code_digest(world.settings.code_key, resent["code"])

    assert world.sweep() == 0
    world.clock.set(later + THIRTY_DAYS - SECOND)
    assert world.sweep() == 0
    world.clock.set(later + THIRTY_DAYS)
    assert world.sweep() == 1
    assert len(world.events("CodeExpired")) == 2
    assert world.get(created["id"])["status"] == "expired"


def test_an_expired_invitation_can_be_revoked(world: World) -> None:
    created = world.invited("ada@example.org")
    at = world.clock.set(START + THIRTY_DAYS)
    world.sweep()

    response = world.post(created["id"], "revoke")

    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    (revoked,) = world.events("InvitationRevoked")
    assert revoked["data"]["revoked_at"] == at.isoformat()
    assert world.post(created["id"], "resend").status_code == 409


def test_an_expired_invitation_may_be_replaced_by_a_new_one(world: World) -> None:
    created = world.invited("ada@example.org")
    world.clock.set(START + THIRTY_DAYS)
    world.sweep()

    again = world.invited("ada@example.org")

    assert again["id"] != created["id"]
    assert again["status"] == "pending"
    assert world.get(created["id"])["status"] == "expired"


def test_resending_an_expired_invitation_that_was_replaced_is_a_conflict(world: World) -> None:
    created = world.invited("ada@example.org")
    world.clock.set(START + THIRTY_DAYS)
    world.sweep()
    replacement = world.invited("ada@example.org")
    issued = len(world.events("InvitationIssued"))

    response = world.post(created["id"], "resend")

    assert response.status_code == 409
    assert response.get_json()["error"] == "invitation_replaced"
    assert response.get_json()["message"]
    assert world.get(created["id"])["status"] == "expired"
    assert world.get(replacement["id"])["status"] == "pending"
    assert len(world.events("InvitationIssued")) == issued


def test_an_activation_finished_with_an_expired_replaced_code_is_still_handled(
    world: World,
) -> None:
    """DESIGN 5: an activation begun before expiry may complete after it. If the coordinator
    has meanwhile invited the person again, the event must still be handled (not fail on the
    one-standing-invitation rule and go round the retry loop)."""
    created = world.invited("ada@example.org")
    world.clock.set(START + THIRTY_DAYS)
    world.sweep()
    replacement = world.invited("ada@example.org")

    world.activate("ada@example.org", created["id"])

    # one standing invitation: the replacement, now an enrolment; the old one stays expired
    assert world.get(replacement["id"])["status"] == "enrolled"
    assert world.get(created["id"])["status"] == "expired"
    assert world.digest_of(replacement["id"]) is None
    notice = world.events("InvitationIssued")[-1]["data"]
    assert notice["invitation_id"] == replacement["id"]
    assert (notice["account_exists"], notice["code"]) == (True, None)


def test_resend_after_expiry_to_an_address_that_has_since_activated_sends_no_code(
    world: World,
) -> None:
    created = world.invited("ada@example.org", ref="MATH101")
    world.clock.set(START + THIRTY_DAYS)
    world.sweep()
    world.activate("ada@example.org")  # the account was made through another invitation

    response = world.post(created["id"], "resend")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "enrolled"
    assert body["expires_at"] is None
    notice = world.events("InvitationIssued")[-1]["data"]
    assert (notice["account_exists"], notice["code"], notice["resent"]) == (True, None, True)
    assert world.digest_of(created["id"]) is None


def test_the_worker_sweeps_often_enough_to_expire_within_a_minute(world: World) -> None:
    (sweep,) = [j for j in jobs(world.sessions, world.issuing, world.clock) if "expir" in j.name]
    assert 0 < sweep.every_seconds <= 30  # a due code waits less than a minute, with margin

    world.invited("ada@example.org")
    world.clock.set(START + THIRTY_DAYS)
    sweep.run()
    assert len(world.events("CodeExpired")) == 1


# -- several sweepers at once (PostgreSQL) ---------------------------------------------------------


def _seed(world: World, count: int) -> None:
    candidates = [
        Candidate(
            email=f"p{i:03d}@example.org",
            first_name="P",
            last_name=str(i),
            language="en",
            evaluation_ref="MATH101",
            evaluation_name="Mathematics 101",
        )
        for i in range(count)
    ]
    with world.sessions() as session, session.begin():
        for i in range(0, count, 100):
            issue_invitations(
                session,
                world.issuing,
                world.institution,
                candidates[i : i + 100],
                START + i * SECOND,
            )


def _run_together(*targets: Any) -> list[Any]:
    barrier = threading.Barrier(len(targets))
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = targets[index]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _assert_each_expired_once(world: World, count: int) -> None:
    announced = Counter(e["data"]["invitation_id"] for e in world.events("CodeExpired"))
    assert sum(announced.values()) == count
    assert set(announced.values()) == {1}
    with world.engine.connect() as db:
        statuses = Counter(db.scalars(select(invitations.c.status)))
    assert statuses == {"expired": count}


def test_two_sweepers_at_once_announce_each_expiry_once(pg_world: World) -> None:
    _seed(pg_world, 300)
    pg_world.clock.set(START + THIRTY_DAYS + timedelta(minutes=10))

    results = _run_together(pg_world.sweep, pg_world.sweep)

    assert sum(results) == 300
    _assert_each_expired_once(pg_world, 300)
    assert pg_world.sweep() == 0


def test_sweepers_taking_small_chunks_share_the_work_without_overlap(pg_world: World) -> None:
    _seed(pg_world, 300)
    now = START + THIRTY_DAYS + timedelta(minutes=10)

    def sweeper() -> int:
        done = 0
        while True:
            with pg_world.sessions() as session, session.begin():
                count = expire_invitations(session, pg_world.issuing.outbox, now, limit=7)
            done += count
            if count == 0:
                return done

    results = _run_together(sweeper, sweeper, sweeper)

    assert sum(results) == 300
    _assert_each_expired_once(pg_world, 300)
