"""What parallel requests cannot do: have one run judged twice (and DeviceValidated published
twice), or slip past the rate limit together."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from devicecheck_testkit import PASSING, PREFIX, devicecheck_world

PARALLEL = 8


def _together(call: Callable[[], int]) -> Counter[int]:
    """``call`` from PARALLEL threads released at once; how many got each status."""
    gate = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def one() -> None:
        gate.wait()
        statuses.append(call())

    threads = [threading.Thread(target=one) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return Counter(statuses)


def test_parallel_reports_judge_a_run_once(database_url: str, tmp_path: Path) -> None:
    with devicecheck_world(database_url, tmp_path) as world:
        ada = world.candidate()
        run = world.start(ada)
        world.measure(ada, run)

        def report() -> int:
            client = world.app.test_client()
            return client.put(
                f"{PREFIX}/{run['id']}", json=PASSING, headers=ada.headers
            ).status_code

        statuses = _together(report)

        assert statuses == Counter({200: 1, 409: PARALLEL - 1})
        assert len(world.events("DeviceValidated")) == 1


def test_parallel_requests_do_not_slip_past_the_budget(database_url: str, tmp_path: Path) -> None:
    with devicecheck_world(database_url, tmp_path, DEVICECHECK_REQUESTS_PER_MINUTE="5") as world:
        ada = world.candidate()

        def ping() -> int:
            client = world.app.test_client()
            return client.get(f"{PREFIX}/speed/ping", headers=ada.headers).status_code

        statuses = _together(ping)

        assert statuses == Counter({204: 5, 429: PARALLEL - 5})
