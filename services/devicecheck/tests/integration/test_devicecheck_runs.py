"""Device check runs end to end on the service (DESIGN section 6, issue 6): a pass publishes
DeviceValidated once and is valid 7 days; each failed check says what went wrong and what to
do, in English and French; the service believes only what it saw of the run; a run is the
account's own and is judged once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from devicecheck_testkit import (
    PASSING,
    PREFIX,
    START,
    DeviceCheckWorld,
    SteppingTimer,
    devicecheck_world,
    results,
)


def _failures(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 200, answer.json
    return [(f["check"], f["reason"]) for f in answer.json["failures"]]


# -- a pass ------------------------------------------------------------------------------------


def test_a_run_starts_with_its_thresholds_and_the_urls_that_measure_it(
    world: DeviceCheckWorld,
) -> None:
    run = world.start(world.candidate())

    check_id = run["id"]
    assert run["started_at"] == START.isoformat()
    assert run["thresholds"] == {
        "min_download_mbps": 1.0,
        "min_upload_mbps": 1.0,
        "max_latency_ms": 500,
        "browsers": ["chrome", "chromium"],
        "min_webcam_width": 640,
        "min_webcam_height": 480,
        "validity_days": 7,
    }
    assert run["transfer_limits"] == {"min_bytes": 1024, "max_bytes": 10 * 1024 * 1024}
    assert run["download_url"] == f"{PREFIX}/speed/download?check_id={check_id}"
    assert run["upload_url"] == f"{PREFIX}/speed/upload?check_id={check_id}"
    assert run["latency_url"] == f"{PREFIX}/speed/ping?check_id={check_id}"
    assert run["document_url"] == f"{PREFIX}/document?check_id={check_id}"
    assert run["autosave_url"] == f"{PREFIX}/{check_id}/autosave"
    assert run["result_url"] == f"{PREFIX}/{check_id}"


def test_a_passing_run_is_valid_7_days_and_publishes_device_validated_once(
    world: DeviceCheckWorld,
) -> None:
    ada = world.candidate()
    run = world.start(ada)
    world.measure(ada, run)

    answer = world.report(ada, run["id"], PASSING)

    valid_until = START + timedelta(days=7)
    assert answer.status_code == 200, answer.json
    assert answer.json == {
        "id": run["id"],
        "started_at": START.isoformat(),
        "judged_at": START.isoformat(),
        "passed": True,
        "failures": [],
        "valid_until": valid_until.isoformat(),
        "valid": True,
    }
    assert answer.headers["Cache-Control"] == "no-store"
    (event,) = world.events()
    assert (event.type, event.version, event.producer) == ("DeviceValidated", 1, "devicecheck")
    assert event.correlation_id == run["id"]
    assert event.data == {
        "check_id": uuid.UUID(run["id"]),
        "account_id": ada.account_id,
        "browser": {"name": "Chrome", "version": "131.0.6778.85"},
        "validated_at": START,
        "valid_until": valid_until,
    }
    again = world.report(ada, run["id"], PASSING)
    assert again.status_code == 409
    assert len(world.events("DeviceValidated")) == 1


def test_the_latest_result_stays_valid_for_7_days_by_the_injected_clock(
    world: DeviceCheckWorld,
) -> None:
    ada = world.candidate()
    world.run(ada)

    world.clock.advance(days=7, seconds=-1)
    still = world.latest(ada)
    world.clock.advance(seconds=2)
    expired = world.latest(ada)

    assert still.status_code == 200
    assert (still.json["passed"], still.json["valid"]) == (True, True)
    assert expired.json["valid_until"] == (START + timedelta(days=7)).isoformat()
    assert (expired.json["passed"], expired.json["valid"]) == (True, False)


def test_the_latest_result_is_the_last_judged_run_pass_or_fail(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    assert world.run(ada).json["passed"] is True
    world.clock.advance(hours=2)
    world.start(ada)  # started, never judged: not a result

    world.run(ada, results(browser={"name": "Firefox", "version": "136.0"}))
    latest = world.latest(ada)

    assert latest.status_code == 200
    assert latest.json["passed"] is False
    assert latest.json["valid"] is False
    assert latest.json["valid_until"] is None
    assert [f["check"] for f in latest.json["failures"]] == ["browser"]
    assert latest.json["judged_at"] == world.clock().isoformat()
    assert len(world.events("DeviceValidated")) == 1  # the failed run published nothing


def test_no_result_yet_is_a_404_in_the_candidates_language(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    world.start(ada)

    english, french = world.latest(ada), world.latest(ada, "fr")

    assert (english.status_code, english.json) == (
        404,
        {
            "error": "no_device_check",
            "message": "You have not finished a device check yet. Validate your device.",
        },
    )
    assert french.json["error"] == "no_device_check"
    assert french.json["message"].startswith("Vous n'avez pas encore terminé")


# -- each failed check -------------------------------------------------------------------------

FAILING = [
    pytest.param(
        results(screen_share={"display_surface": "window"}),
        "screen_share",
        "not_entire_screen",
        "You shared a window or a browser tab, not your entire screen.",
        "Share your entire screen, not a window or a tab",
        id="window shared",
    ),
    pytest.param(
        results(screen_share={"display_surface": "browser"}),
        "screen_share",
        "not_entire_screen",
        "You shared a window or a browser tab, not your entire screen.",
        "Share your entire screen, not a window or a tab",
        id="tab shared",
    ),
    pytest.param(
        results(screen_share={"display_surface": None}),
        "screen_share",
        "not_shared",
        "Your screen was not shared.",
        'Allow screen sharing and choose "Entire screen"',
        id="nothing shared",
    ),
    pytest.param(
        results(webcam={"width": 320, "height": 240}),
        "webcam",
        "resolution_too_low",
        "The webcam's image is 320x240; at least 640x480 is required.",
        "Close other applications using the camera",
        id="small webcam",
    ),
    pytest.param(
        results(webcam={"live": False, "width": None, "height": None}),
        "webcam",
        "not_live",
        "The webcam gave no live image.",
        "Close other applications using the camera",
        id="webcam not live",
    ),
    pytest.param(
        results(download_mbps=0.5),
        "download",
        "too_slow",
        "The download speed is 0.5 Mbps; at least 1 Mbps is required.",
        "Connect by cable or move closer to the router",
        id="slow download",
    ),
    pytest.param(
        results(upload_mbps=0.75),
        "upload",
        "too_slow",
        "The upload speed is 0.75 Mbps; at least 1 Mbps is required.",
        "Connect by cable or move closer to the router",
        id="slow upload",
    ),
    pytest.param(
        results(latency_ms=812.4),
        "latency",
        "too_high",
        "The connection's latency is 812.4 ms; at most 500 ms is allowed.",
        "Connect by cable or move closer to the router",
        id="high latency",
    ),
    pytest.param(
        results(browser={"name": "Firefox", "version": "136.0"}),
        "browser",
        "not_supported",
        "Firefox 136.0 is not supported for exams.",
        "Use Chrome or Chromium",
        id="firefox",
    ),
    pytest.param(
        results(document_displayed=False),
        "document",
        "not_displayed",
        "The sample document was not displayed.",
        "Let the browser display PDF documents",
        id="document not displayed",
    ),
    pytest.param(
        results(writing={"autosave_ok": False}),
        "writing",
        "autosave_failed",
        "Your text could not be saved automatically.",
        "Check that your connection is stable",
        id="autosave failed",
    ),
    pytest.param(
        results(writing={"typed": False}),
        "writing",
        "not_typed",
        "Typing in the writing area did not work.",
        "Click in the writing area",
        id="typing failed",
    ),
]


@pytest.mark.parametrize(("body", "check", "reason", "message", "advice"), FAILING)
def test_each_failed_check_says_what_went_wrong_and_what_to_do(
    world: DeviceCheckWorld,
    body: dict[str, Any],
    check: str,
    reason: str,
    message: str,
    advice: str,
) -> None:
    ada = world.candidate()

    answer = world.run(ada, body)

    assert answer.status_code == 200, answer.json
    assert (answer.json["passed"], answer.json["valid"], answer.json["valid_until"]) == (
        False,
        False,
        None,
    )
    (failure,) = answer.json["failures"]
    assert (failure["check"], failure["reason"], failure["message"]) == (check, reason, message)
    assert failure["advice"].startswith(advice), failure["advice"]
    assert world.events() == []


def test_every_failure_is_listed_in_the_order_of_the_page(world: DeviceCheckWorld) -> None:
    body = results(
        screen_share={"display_surface": "window"},
        webcam={"live": True, "width": 320, "height": 240},
        download_mbps=None,
        upload_mbps=0.2,
        latency_ms=1500,
        document_displayed=False,
        writing={"typed": False, "autosave_ok": False},
        browser={"name": "Safari", "version": "18.2"},
    )

    answer = world.run(world.candidate(), body)

    assert _failures(answer) == [
        ("screen_share", "not_entire_screen"),
        ("webcam", "resolution_too_low"),
        ("download", "not_measured"),
        ("upload", "too_slow"),
        ("latency", "too_high"),
        ("document", "not_displayed"),
        ("writing", "not_typed"),
        ("browser", "not_supported"),
    ]


def test_failures_are_explained_in_french(world: DeviceCheckWorld) -> None:
    body = results(
        screen_share={"display_surface": "window"},
        download_mbps=0.5,
        browser={"name": "Firefox", "version": "136.0"},
    )
    ada = world.candidate()

    answer = world.run(ada, body, language="fr-CA,fr;q=0.9,en;q=0.5")

    screen, download, browser = answer.json["failures"]
    assert (
        screen["message"] == "Vous avez partagé une fenêtre ou un onglet, pas votre écran entier."
    )
    assert screen["advice"].startswith("Partagez votre écran entier, pas une fenêtre ni un onglet")
    assert download["message"] == (
        "Le débit descendant est de 0,5 Mbit/s ; il faut au moins 1 Mbit/s."
    )
    assert download["advice"].startswith("Branchez-vous par câble ou rapprochez-vous du routeur")
    assert browser["message"] == "Firefox 136.0 n'est pas pris en charge pour les examens."
    assert browser["advice"].startswith("Utilisez Chrome ou Chromium")
    # the result is stored, not its wording: the same run reads in English when asked so
    english = world.latest(ada, "en").json["failures"]
    assert english[0]["message"] == "You shared a window or a browser tab, not your entire screen."


# -- what the service saw ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skipped", "failure"),
    [
        ("download", ("download", "not_measured")),
        ("upload", ("upload", "not_measured")),
        ("latency", ("latency", "not_measured")),
        ("document", ("document", "not_displayed")),
        ("writing", ("writing", "autosave_failed")),
    ],
)
def test_a_check_the_run_never_made_through_the_service_fails(
    world: DeviceCheckWorld, skipped: str, failure: tuple[str, str]
) -> None:
    ada = world.candidate()
    run = world.start(ada)
    world.measure(ada, run, skip=(skipped,))

    answer = world.report(ada, run["id"], PASSING)

    assert _failures(answer) == [failure]


def test_measurements_without_the_run_count_for_no_run(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    run = world.start(ada)
    assert world.download(ada, 4096).status_code == 200
    assert world.upload(ada, b"x" * 4096).status_code == 200
    assert world.ping(ada).status_code == 204

    answer = world.report(ada, run["id"], PASSING)

    assert _failures(answer)[:3] == [
        ("download", "not_measured"),
        ("upload", "not_measured"),
        ("latency", "not_measured"),
    ]


def test_the_upload_judged_is_never_faster_than_the_service_timed_it(
    database_url: str, tmp_path: Path
) -> None:
    # each upload body takes 4 s by this timer: 256 KiB in 4 s is 0.52 Mbps
    with devicecheck_world(database_url, tmp_path, timer=SteppingTimer(4.0)) as world:
        ada = world.candidate()
        run = world.start(ada)
        world.measure(ada, run)

        answer = world.report(ada, run["id"], results(upload_mbps=25.0))

        (failure,) = answer.json["failures"]
        assert failure["message"] == ("The upload speed is 0.52 Mbps; at least 1 Mbps is required.")
        assert world.stored_run(run["id"]).upload_bps == 256 * 1024 * 8 // 4


def test_the_thresholds_come_from_the_settings(database_url: str, tmp_path: Path) -> None:
    with devicecheck_world(
        database_url,
        tmp_path,
        DEVICECHECK_MIN_DOWNLOAD_MBPS="50",
        DEVICECHECK_MAX_LATENCY_MS="30",
        DEVICECHECK_BROWSERS="Firefox, Chrome",
        DEVICECHECK_VALIDITY_DAYS="2",
    ) as world:
        ada = world.candidate()
        firefox = {"name": "Firefox", "version": "136.0"}

        answer = world.run(ada, results(browser=firefox))
        faster = world.run(ada, results(download_mbps=80, latency_ms=12, browser=firefox))

    assert _failures(answer) == [("download", "too_slow"), ("latency", "too_high")]
    assert answer.json["failures"][0]["message"] == (
        "The download speed is 48.5 Mbps; at least 50 Mbps is required."
    )
    assert faster.json["valid_until"] == (START + timedelta(days=2)).isoformat()


def test_a_run_is_judged_on_the_thresholds_it_started_with(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    run = world.start(ada)
    world.measure(ada, run)
    stricter = world.again(DEVICECHECK_MAX_LATENCY_MS="20", DEVICECHECK_VALIDITY_DAYS="1")

    answer = stricter.report(ada, run["id"], PASSING)
    later = stricter.start(ada)

    assert answer.json["passed"] is True
    assert answer.json["valid_until"] == (START + timedelta(days=7)).isoformat()
    assert later["thresholds"]["max_latency_ms"] == 20


# -- whose run, and when -----------------------------------------------------------------------


def test_another_candidates_run_is_not_found(world: DeviceCheckWorld) -> None:
    ada, eve = world.candidate(), world.candidate()
    run = world.start(ada)
    world.measure(ada, run)
    check_id = run["id"]

    answers = [
        world.report(eve, check_id, PASSING),
        world.autosave(eve, check_id, "mine now", 1),
        world.download(eve, 2048, check_id),
        world.upload(eve, b"x" * 2048, check_id),
        world.ping(eve, check_id),
        world.client.get(run["document_url"], headers=eve.headers),
        world.report(eve, str(uuid.uuid4()), PASSING),
    ]

    assert [a.status_code for a in answers] == [404] * 7
    assert {a.json["error"] for a in answers} == {"device_check_not_found"}
    assert answers[0].json["message"] == "This device check does not exist. Start a new one."
    assert world.latest(eve).status_code == 404
    assert world.report(ada, check_id, PASSING).json["passed"] is True
    assert world.stored_run(check_id).autosave_content != "mine now"


def test_a_judged_run_takes_nothing_more(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    run = world.start(ada)
    world.measure(ada, run)
    failed = world.report(ada, run["id"], results(latency_ms=900))
    check_id = run["id"]

    answers = [
        world.report(ada, check_id, PASSING),
        world.report(ada, check_id, PASSING, "fr"),
        world.autosave(ada, check_id, "later", 1),
        world.download(ada, 2048, check_id),
        world.ping(ada, check_id),
        world.upload(ada, b"x", check_id),
    ]

    assert failed.json["passed"] is False
    assert [a.status_code for a in answers] == [409] * 6
    assert {a.json["error"] for a in answers} == {"device_check_judged"}
    assert answers[1].json["message"].startswith("Cette vérification de l'appareil a déjà")
    assert world.latest(ada).json["passed"] is False
    assert world.events() == []


def test_autosave_refuses_a_stale_revision(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    check_id = world.start(ada)["id"]

    first = world.autosave(ada, check_id, "The quick", 0)
    world.clock.advance(seconds=3)
    second = world.autosave(ada, check_id, "The quick brown fox", 1)
    stale = world.autosave(ada, check_id, "The lazy dog", 1)

    assert (first.status_code, first.json) == (
        200,
        {"revision": 1, "saved_at": START.isoformat()},
    )
    assert second.json == {"revision": 2, "saved_at": world.clock().isoformat()}
    assert (stale.status_code, stale.json["error"], stale.json["revision"]) == (
        409,
        "stale_revision",
        2,
    )
    assert world.stored_run(check_id).autosave_content == "The quick brown fox"


# -- who may ask -------------------------------------------------------------------------------


def test_only_a_candidate_token_naming_an_account_is_accepted(world: DeviceCheckWorld) -> None:
    coordinator = world.tokens.header(roles=("coordinator",), subject=str(uuid.uuid4()))
    not_an_account = world.tokens.header(roles=("candidate",), subject="ada@example.org")

    answers = {
        "none": world.client.post(PREFIX),
        "coordinator": world.client.post(PREFIX, headers=coordinator),
        "not an account": world.client.post(
            PREFIX, headers={**not_an_account, "Accept-Language": "fr"}
        ),
    }

    assert {k: (a.status_code, a.json["error"]) for k, a in answers.items()} == {
        "none": (401, "invalid_token"),
        "coordinator": (403, "forbidden"),
        "not an account": (403, "forbidden"),
    }
    assert answers["not an account"].json["message"] == "Ce jeton ne désigne aucun compte."


def test_a_browser_named_with_a_control_character_is_a_422_naming_the_field(
    world: DeviceCheckWorld,
) -> None:
    ada = world.candidate()
    check_id = world.start(ada)["id"]

    answers = {
        field: world.client.put(
            f"{PREFIX}/{check_id}",
            json=results(browser={field: "131\r\nBcc: evil@example.com"}),
            headers=ada.headers,
        )
        for field in ("name", "version")
    }

    for field, answer in answers.items():
        assert answer.status_code == 422, (field, answer.json)
        assert answer.json["errors"]["json"] == {
            "browser": {field: ["Control characters such as line breaks or tabs are not allowed."]}
        }
    assert world.stored_run(check_id).judged_at is None


def test_a_report_that_does_not_follow_the_schema_is_a_422(world: DeviceCheckWorld) -> None:
    ada = world.candidate()
    check_id = world.start(ada)["id"]
    broken = [
        {k: v for k, v in PASSING.items() if k != "webcam"},
        results(download_mbps="fast"),
        results(download_mbps=-1),
        results(latency_ms=float("inf")),
        results(webcam={"width": 10**9}),
        results(browser={"name": ""}),
        {**PASSING, "extra": True},
    ]

    answers = [
        world.client.put(f"{PREFIX}/{check_id}", json=b, headers=ada.headers) for b in broken
    ]

    assert [a.status_code for a in answers] == [422] * len(broken), [a.json for a in answers]
    assert {a.json["error"] for a in answers} == {"validation_error"}
    assert world.stored_run(check_id).judged_at is None
