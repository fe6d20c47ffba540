"""``nexam invitations ...`` against a real invitations service: list (pages, filters),
show, resend, revoke and export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cli_testkit import (
    items,
    nexam,
    roster_rows,
    tag,
    write_csv,
)


def test_one_candidate_then_show_resend_revoke(env: dict[str, str | None]) -> None:
    email = f"ada.{tag()}@example.org"
    options = [
        "--email",
        email,
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--evaluation-ref",
        "MATH101",
        "--evaluation-name",
        "Mathematics",
    ]

    invited = nexam(env, "invite", *options, "--language", "fr")

    assert invited.exit_code == 0, invited.output
    assert f"Invited {email} to MATH101" in invited.stdout
    again = nexam(env, "invite", *options)
    assert again.exit_code == 0
    assert "already invited" in again.stdout
    (invitation,) = items(nexam(env, "invitations", "list", "--email", email, "--json"))
    invitation_id = invitation["id"]
    assert invitation["language"] == "fr"

    shown = nexam(env, "invitations", "show", invitation_id)
    assert shown.exit_code == 0
    assert email in shown.stdout and "Ada Lovelace" in shown.stdout and "pending" in shown.stdout

    resent = nexam(env, "invitations", "resend", invitation_id)
    assert resent.exit_code == 0, resent.output
    assert f"Sent {email} a new invitation" in resent.stdout

    declined = nexam(env, "invitations", "revoke", invitation_id, input="n\n")
    assert declined.exit_code == 1
    assert f"Revoke the invitation of {email} to MATH101" in declined.stderr
    assert json.loads(nexam(env, "invitations", "show", invitation_id, "--json").stdout)[
        "status"
    ] == ("pending")

    revoked = nexam(env, "invitations", "revoke", invitation_id, "--yes")
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked the invitation of {email}" in revoked.stdout
    shown = nexam(env, "invitations", "show", invitation_id, "--json")
    assert json.loads(shown.stdout)["status"] == "revoked"

    twice = nexam(env, "invitations", "revoke", invitation_id, "--yes")
    assert twice.exit_code == 2
    assert "Error: This invitation is already revoked." in twice.stderr
    resend_revoked = nexam(env, "invitations", "resend", invitation_id)
    assert resend_revoked.exit_code == 2
    assert "cannot be sent again" in resend_revoked.stderr


def test_list_pages_and_filters(env: dict[str, str | None], tmp_path: Path) -> None:
    prefix = tag()
    rows = roster_rows(7, prefix=prefix) + roster_rows(3, prefix=prefix, ref="CHEM-2026")
    assert nexam(env, "invite", str(write_csv(tmp_path / "r.csv", rows)), "--interval", "0.1")

    first_page = nexam(env, "invitations", "list", "--limit", "4", "--json")
    assert len(items(first_page)) == 4
    assert "More invitations: add --all, or --cursor " in first_page.stderr
    everything = items(nexam(env, "invitations", "list", "--limit", "4", "--all", "--json"))
    assert len(everything) == 10
    assert len({i["id"] for i in everything}) == 10
    chemistry = items(nexam(env, "invitations", "list", "--evaluation", "CHEM-2026", "--json"))
    assert len(chemistry) == 3
    assert items(nexam(env, "invitations", "list", "--status", "revoked", "--json")) == []

    table = nexam(env, "invitations", "list", "--all")
    assert table.exit_code == 0
    assert f"{prefix}.1@example.org" in table.stdout
    assert "MATH101-FINAL-2026" in table.stdout and "CHEM-2026" in table.stdout


def test_export_writes_a_csv(env: dict[str, str | None], tmp_path: Path) -> None:
    prefix = tag()
    roster = write_csv(tmp_path / "roster.csv", roster_rows(4, prefix=prefix))
    assert nexam(env, "invite", str(roster), "--interval", "0.1").exit_code == 0
    target = tmp_path / "out" / "invitations.csv"
    target.parent.mkdir()

    result = nexam(env, "invitations", "export", "-o", str(target))

    assert result.exit_code == 0, result.output
    assert "Wrote 4 invitations" in result.stderr
    with target.open(newline="", encoding="utf-8") as exported:
        rows = list(csv.DictReader(exported))
    assert sorted(r["email"] for r in rows) == [f"{prefix}.{n}@example.org" for n in range(1, 5)]
    assert {r["status"] for r in rows} == {"pending"}
    assert [p.name for p in target.parent.iterdir()] == ["invitations.csv"]

    to_stdout = nexam(env, "invitations", "export", "--status", "pending")
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout.splitlines()[0].startswith('"email","first_name","last_name"')
    assert len(to_stdout.stdout.splitlines()) == 5
