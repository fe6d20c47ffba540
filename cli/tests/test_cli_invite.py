"""``nexam invite`` and ``nexam batch`` against a real invitations service: rosters (CSV,
JSON, stdin) with good and bad rows, one candidate given by options, usage errors."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_testkit import (
    HEADER,
    MAX_BYTES,
    Platform,
    counted,
    items,
    nexam,
    roster_rows,
    tag,
    write_csv,
)
from sqlalchemy import insert

from invitations.store import activated_addresses


def test_roster_with_bad_rows_invites_the_good_ones_and_lists_the_bad(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    rows = roster_rows(20, prefix=tag())
    rows[3][0] = "not-an-email"  # spreadsheet row 5 (the header is row 1)
    rows[10][2] = ""  # row 12: no last name
    roster = write_csv(tmp_path / "roster.csv", rows)

    first = nexam(env, "invite", str(roster), "--interval", "0.1")

    assert first.exit_code == 1, first.output
    assert re.search(r"^\s*5\s+email\s+Not a valid email address", first.stdout, re.M)
    assert re.search(r"^\s*12\s+last_name\s+Required", first.stdout, re.M)
    assert counted(first.stdout, "Rows") == 20
    assert counted(first.stdout, "issued") == 18
    assert counted(first.stdout, "skipped") == 0
    assert counted(first.stdout, "Rejected") == 2
    assert "18 rows accepted, 2 rejected" in first.stderr
    listed = items(nexam(env, "invitations", "list", "--json"))
    assert len(listed) == 18
    assert {i["status"] for i in listed} == {"pending"}
    assert {i["language"] for i in listed} == {"fr"}

    again = nexam(env, "invite", str(roster), "--interval", "0.1")

    assert again.exit_code == 1, again.output
    assert counted(again.stdout, "issued") == 0
    assert counted(again.stdout, "skipped") == 18
    assert len(items(nexam(env, "invitations", "list", "--json"))) == 18


def test_a_clean_json_roster_exits_0_and_counts_existing_accounts(
    platform: Platform, env: dict[str, str | None], tmp_path: Path
) -> None:
    prefix = tag()
    candidates = [
        {
            "email": f"{prefix}.{n}@example.org",
            "first_name": f"First{n}",
            "last_name": f"Last{n}",
            "evaluation_ref": "PHYS-2026",
            "evaluation_name": "Physics",
        }
        for n in range(3)
    ]
    with platform.app.extensions["nexam.runtime"].sessions() as session, session.begin():
        session.execute(
            insert(activated_addresses).values(
                email=candidates[0]["email"],
                account_id=uuid.uuid4(),
                activated_at=datetime.now(UTC),
            )
        )
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(candidates), encoding="utf-8")

    result = nexam(env, "invite", str(roster), "--interval", "0.1", "--json")

    assert result.exit_code == 0, result.output
    batch = json.loads(result.stdout)
    assert batch["status"] == "completed"
    assert (batch["issued"], batch["enrolled"], batch["skipped"]) == (2, 1, 0)
    statuses = {i["email"]: i["status"] for i in items(nexam(env, "invitations", "list", "--json"))}
    assert statuses[candidates[0]["email"]] == "enrolled"


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        (b"mail,first,last\nx@example.org,A,B\n", "csv", "The first row must name the columns"),
        (
            HEADER.encode() + "\nzoé@example.org,Zoé,Müller,R,N,fr\n".encode("latin-1"),
            "csv",
            "The file is not UTF-8",
        ),
        (b"[not json", "json", "The JSON is not valid"),
        (HEADER.encode() + b"\n" + b"x" * (MAX_BYTES + 1), "csv", "exceeds"),
    ],
    ids=["header", "encoding", "syntax", "too-large"],
)
def test_a_roster_the_api_refuses_shows_its_message_and_exits_2(
    env: dict[str, str | None], tmp_path: Path, content: bytes, suffix: str, expected: str
) -> None:
    roster = tmp_path / f"roster.{suffix}"
    roster.write_bytes(content)

    result = nexam(env, "invite", str(roster))

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: "), result.output
    assert expected in result.stderr
    assert items(nexam(env, "invitations", "list", "--json")) == []


def test_the_header_problem_names_the_missing_columns(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    roster = write_csv(tmp_path / "r.csv", [["a@example.org", "A", "B"]], header="e-mail,a,b")

    result = nexam(env, "invite", str(roster))

    assert result.exit_code == 2
    assert "missing columns: email, first_name, last_name" in result.stderr
    assert "unknown columns: e-mail, a, b" in result.stderr


def test_no_wait_returns_the_batch_that_batch_follows(
    platform: Platform, env: dict[str, str | None], tmp_path: Path
) -> None:
    roster = write_csv(tmp_path / "roster.csv", roster_rows(5, prefix=tag()))

    with platform.worker.paused():
        uploaded = nexam(env, "invite", str(roster), "--no-wait")
        assert uploaded.exit_code == 0, uploaded.output
        batch_id = re.search(r"Batch ([0-9a-f-]{36})", uploaded.stdout)
        assert batch_id, uploaded.output
        assert f"nexam batch {batch_id.group(1)} --wait" in uploaded.stderr

        waiting = nexam(env, "batch", batch_id.group(1))
        assert waiting.exit_code == 0, waiting.output
        assert "Processing" in waiting.stdout and "0/5" in waiting.stdout

        gave_up = nexam(
            env, "batch", batch_id.group(1), "--wait", "--interval", "0.1", "--max-wait", "0.3"
        )
        assert gave_up.exit_code == 2
        assert "still processing" in gave_up.stderr

    done = nexam(env, "batch", batch_id.group(1), "--wait", "--interval", "0.1")

    assert done.exit_code == 0, done.output
    assert counted(done.stdout, "issued") == 5
    assert "completed" in done.stdout


def test_one_candidate_with_bad_values_shows_the_field_errors(env: dict[str, str | None]) -> None:
    result = nexam(
        env,
        "invite",
        "--email",
        "nope",
        "--first-name",
        "A",
        "--last-name",
        "B",
        "--evaluation-ref",
        "R",
        "--evaluation-name",
        "N",
        "--language",
        "de",
    )

    assert result.exit_code == 2
    assert "email: Not a valid email address." in result.stderr
    assert "language: Unknown language; use one of: en, fr." in result.stderr


def test_usage_errors_exit_2(env: dict[str, str | None], tmp_path: Path) -> None:
    roster = write_csv(tmp_path / "roster.txt", roster_rows(1, prefix=tag()))

    assert nexam(env, "invite").exit_code == 2
    partial = nexam(env, "invite", "--email", "a@example.org")
    assert partial.exit_code == 2 and "--first-name" in partial.stderr
    unknown_format = nexam(env, "invite", str(roster))
    assert unknown_format.exit_code == 2 and "--format csv" in unknown_format.stderr
    assert nexam(env, "invite", str(tmp_path / "missing.csv")).exit_code == 2
    assert nexam(env, "invitations", "show", "not-a-uuid").exit_code == 2
    missing = nexam(env, "invitations", "show", str(uuid.uuid4()))
    assert missing.exit_code == 2 and "No such invitation." in missing.stderr
    missing_batch = nexam(env, "batch", str(uuid.uuid4()))
    assert missing_batch.exit_code == 2 and "No such batch." in missing_batch.stderr

    with_format = nexam(env, "invite", str(roster), "--format", "csv", "--interval", "0.1")
    assert with_format.exit_code == 0, with_format.output


def test_a_roster_can_come_from_stdin(env: dict[str, str | None]) -> None:
    rows = roster_rows(3, prefix=tag())
    text = "\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n"

    result = nexam(env, "invite", "-", "--format", "csv", "--interval", "0.1", input=text)

    assert result.exit_code == 0, result.output
    assert "Uploaded stdin" in result.stderr
    assert counted(result.stdout, "issued") == 3
