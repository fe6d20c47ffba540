"""The service's own endpoints for the measured checks: an incompressible download and a
bounded upload of bounded sizes, the ping, the sample document, and the per-account rate
limit on all of them (counted in the database, with the injected clock)."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest
from devicecheck_testkit import KIB, PREFIX, START, DeviceCheckWorld, devicecheck_world

MIB = 1024 * KIB


def test_the_download_is_exactly_the_size_asked_and_incompressible(
    world: DeviceCheckWorld,
) -> None:
    ada = world.candidate()

    answer = world.download(ada, MIB)
    other = world.download(ada, MIB)

    body = answer.get_data()
    assert answer.status_code == 200
    assert len(body) == int(answer.headers["Content-Length"]) == MIB
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Cache-Control"] == "no-store, no-transform"
    assert answer.headers["Content-Encoding"] == "identity"
    assert len(zlib.compress(body, 9)) > 0.99 * MIB
    # no block repeats within or across answers, so no window, however long, finds one
    assert body[: 64 * KIB] != body[64 * KIB : 128 * KIB]
    assert other.get_data()[: 64 * KIB] != body[: 64 * KIB]


@pytest.mark.parametrize("size", ["1023", str(10 * MIB + 1), "-5", "lots", ""])
def test_a_download_outside_its_bounds_is_a_422(world: DeviceCheckWorld, size: str) -> None:
    ada = world.candidate()

    answer = world.client.get(
        f"{PREFIX}/speed/download", query_string={"bytes": size}, headers=ada.headers
    )

    assert answer.status_code == 422
    assert answer.json["error"] == "validation_error"
    assert "bytes" in answer.json["errors"]["query"]


def test_the_smallest_and_largest_downloads_are_served(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    assert len(world.download(ada, KIB).get_data()) == KIB
    assert len(world.download(ada, 10 * MIB).get_data()) == 10 * MIB


def test_an_upload_is_received_counted_and_dropped(world: DeviceCheckWorld) -> None:
    ada = world.candidate()

    answer = world.upload(ada, b"\x8f" * (3 * MIB + 7))

    assert (answer.status_code, answer.json) == (
        200,
        {"received_bytes": 3 * MIB + 7, "received_at": START.isoformat()},
    )


def test_an_upload_past_its_bound_is_a_413(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    largest = world.upload(ada, b"x" * 10 * MIB)

    answer = world.upload(ada, b"x" * (10 * MIB + 1))
    french = world.client.post(
        f"{PREFIX}/speed/upload",
        data=b"x" * (11 * MIB),
        headers={**ada.speaking("fr"), "Content-Type": "application/octet-stream"},
    )

    assert largest.json["received_bytes"] == 10 * MIB
    assert (answer.status_code, answer.json["error"]) == (413, "upload_too_large")
    assert answer.json["max_bytes"] == 10 * MIB
    assert answer.json["message"] == (
        "The test upload is too large: at most 10485760 bytes are accepted."
    )
    assert french.status_code == 413
    assert french.json["message"].startswith("L'envoi de test est trop volumineux")


def test_the_ping_answers_nothing(world: DeviceCheckWorld) -> None:
    answer = world.ping(world.candidate())

    assert (answer.status_code, answer.get_data()) == (204, b"")
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_sample_document_is_a_valid_one_page_pdf(world: DeviceCheckWorld) -> None:
    answer = world.client.get(f"{PREFIX}/document", headers=world.candidate().headers)

    pdf = answer.get_data()
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'inline; filename="nexam-sample.pdf"'
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    # every object is where the cross-reference table says, as a reader looks for it
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    assert b"/Type /Page " in pdf and b"/Count 1" in pdf
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))  # type: ignore[union-attr]
    stream = pdf.index(b"stream\n") + len(b"stream\n")
    assert pdf[stream + length :].startswith(b"endstream")


def test_the_speed_endpoints_need_a_candidate(world: DeviceCheckWorld) -> None:
    answers = [
        world.client.get(f"{PREFIX}/speed/download?bytes=2048"),
        world.client.post(f"{PREFIX}/speed/upload", data=b"x" * 2048),
        world.client.get(f"{PREFIX}/speed/ping"),
        world.client.get(f"{PREFIX}/document"),
    ]

    assert [(a.status_code, a.json["error"]) for a in answers] == [(401, "invalid_token")] * 4


# -- the rate limit ----------------------------------------------------------------------------


def test_requests_past_the_budget_wait_for_the_next_window(
    database_url: str, tmp_path: Path
) -> None:
    with devicecheck_world(database_url, tmp_path, DEVICECHECK_REQUESTS_PER_MINUTE="4") as world:
        ada, eve = world.candidate(), world.candidate()
        run = world.start(ada)  # a run counts: 1
        allowed = [world.ping(ada).status_code for _ in range(3)]
        world.clock.advance(seconds=20)

        refused = world.ping(ada)
        french = world.client.get(f"{PREFIX}/speed/ping", headers=ada.speaking("fr"))
        others = [world.download(ada, KIB), world.upload(ada, b"x"), world.start_answer(ada)]
        eve_pings = world.ping(eve)
        world.clock.advance(seconds=40)
        next_window = world.ping(ada, run["id"])

    assert allowed == [204] * 3
    assert (refused.status_code, refused.json["error"]) == (429, "rate_limited")
    assert refused.headers["Retry-After"] == "40"
    assert refused.json["retry_after"] == 40
    assert refused.json["message"] == "Too many device check requests. Try again in 40 seconds."
    assert french.json["message"] == (
        "Trop de requêtes de vérification de l'appareil. Réessayez dans 40 secondes."
    )
    assert [a.status_code for a in others] == [429] * 3
    assert eve_pings.status_code == 204  # per account
    assert next_window.status_code == 204


def test_bytes_past_the_budget_are_refused_too(database_url: str, tmp_path: Path) -> None:
    budget = str(3 * MIB)
    with devicecheck_world(database_url, tmp_path, DEVICECHECK_BYTES_PER_MINUTE=budget) as world:
        ada = world.candidate()

        served = [world.download(ada, MIB).status_code for _ in range(2)]
        upload = world.upload(ada, b"x" * MIB)
        refused = world.download(ada, KIB)
        world.clock.advance(minutes=1)
        again = world.download(ada, MIB)

    assert served == [200, 200]
    assert upload.status_code == 200
    assert (refused.status_code, refused.json["error"]) == (429, "rate_limited")
    assert refused.headers["Retry-After"] == "60"
    assert again.status_code == 200
