"""Reading a roster (CSV with a header row, or a JSON list): what is taken, what is rejected
row by row, and what refuses the whole file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.runtime.errors import ApiError
from invitations.api import answer
from invitations.domain import RosterProblem
from invitations.roster import read_roster

HEADER = "email,first_name,last_name,evaluation_ref,evaluation_name,language"


def csv_bytes(*lines: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *lines]).encode()


def read_csv(raw: bytes, max_rows: int = 10_000) -> Any:
    return read_roster(raw, "text/csv", max_rows=max_rows)


def problem_of(raw: bytes, content_type: str = "text/csv", max_rows: int = 10_000) -> ApiError:
    """The refusal of the whole file, as the API answers it (in English)."""
    with pytest.raises(RosterProblem) as caught:
        read_roster(raw, content_type, max_rows=max_rows)
    return answer(caught.value, "en")


ADA = "ada@example.org,Ada,Lovelace,MATH101,Mathematics 101,en"
GRACE = "grace@example.org,Grace,Hopper,MATH101,Mathematics 101,fr"


# -- CSV: the file as a whole ----------------------------------------------------------------------


def test_a_plain_csv_gives_its_rows_numbered_as_a_spreadsheet_shows_them() -> None:
    roster = read_csv(csv_bytes(ADA, GRACE))
    assert roster.rejected == []
    assert roster.rows == [
        (
            2,
            {
                "email": "ada@example.org",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "evaluation_ref": "MATH101",
                "evaluation_name": "Mathematics 101",
                "language": "en",
            },
        ),
        (
            3,
            {
                "email": "grace@example.org",
                "first_name": "Grace",
                "last_name": "Hopper",
                "evaluation_ref": "MATH101",
                "evaluation_name": "Mathematics 101",
                "language": "fr",
            },
        ),
    ]


def test_a_byte_order_mark_crlf_and_blank_trailing_lines_are_fine() -> None:
    raw = b"\xef\xbb\xbf" + csv_bytes(ADA, GRACE, "", "", ",,,,,", "", newline="\r\n")
    roster = read_csv(raw)
    assert roster.rejected == []
    assert [n for n, _ in roster.rows] == [2, 3]
    assert roster.rows[0][1]["email"] == "ada@example.org"  # not "\ufeffemail"
    assert roster.rows[1][1]["language"] == "fr"  # no "\r" left behind


def test_a_blank_line_in_the_middle_keeps_the_numbering_of_the_lines_after_it() -> None:
    roster = read_csv(csv_bytes(ADA, "", GRACE))
    assert [n for n, _ in roster.rows] == [2, 4]


def test_the_language_column_is_optional_and_defaults_to_english() -> None:
    header = "email,first_name,last_name,evaluation_ref,evaluation_name"
    roster = read_csv(csv_bytes("ada@example.org,Ada,Lovelace,M1,Maths", header=header))
    assert roster.rejected == []
    assert roster.rows[0][1]["language"] == "en"


def test_the_header_ignores_case_spaces_and_column_order() -> None:
    header = " Last_Name , EMAIL,First_name ,Language,evaluation_REF,Evaluation_Name "
    roster = read_csv(csv_bytes("Lovelace,Ada@Example.org,Ada,FR,M1,Maths", header=header))
    assert roster.rejected == []
    assert roster.rows == [
        (
            2,
            {
                "email": "ada@example.org",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "evaluation_ref": "M1",
                "evaluation_name": "Maths",
                "language": "fr",
            },
        )
    ]


def test_values_are_trimmed_and_quoted_commas_kept() -> None:
    roster = read_csv(csv_bytes('  ada@example.org , Ada ,"Lovelace, Countess",M1,"Maths, I", en'))
    assert roster.rejected == []
    row = roster.rows[0][1]
    assert row["first_name"] == "Ada"
    assert row["last_name"] == "Lovelace, Countess"
    assert row["evaluation_name"] == "Maths, I"


def test_a_missing_column_refuses_the_file_and_names_it() -> None:
    header = "email,first_name,evaluation_ref,evaluation_name"
    problem = problem_of(csv_bytes("ada@example.org,Ada,M1,Maths", header=header))
    assert (problem.status, problem.error) == (400, "roster_header")
    assert problem.extra == {"missing": ["last_name"], "unknown": []}
    assert "email" in problem.message


def test_an_unknown_column_refuses_the_file_and_names_it() -> None:
    problem = problem_of(csv_bytes(ADA + ",x", header=HEADER + ",Phone"))
    assert (problem.status, problem.error) == (400, "roster_header")
    assert problem.extra == {"missing": [], "unknown": ["phone"]}


def test_a_duplicate_column_refuses_the_file() -> None:
    problem = problem_of(csv_bytes(ADA + ",x@example.org", header=HEADER + ",Email"))
    assert (problem.status, problem.error) == (400, "roster_header")


def test_a_header_of_data_instead_of_names_lists_everything_missing() -> None:
    problem = problem_of(b"ada@example.org,Ada,Lovelace,M1,Maths\n")
    assert problem.error == "roster_header"
    assert problem.extra["missing"] == [
        "email",
        "first_name",
        "last_name",
        "evaluation_ref",
        "evaluation_name",
    ]
    assert len(problem.extra["unknown"]) == 5


def test_a_row_with_the_wrong_number_of_values_is_rejected_and_the_others_go_through() -> None:
    roster = read_csv(csv_bytes(ADA, "bob@example.org,Bob,Builder,M1", GRACE + ",extra"))
    assert [n for n, _ in roster.rows] == [2]
    assert [r["row"] for r in roster.rejected] == [3, 4]
    for rejected in roster.rejected:
        assert list(rejected["errors"]) == ["_row"]
        assert rejected["errors"]["_row"][0].startswith("Has ")


# -- CSV: row errors -------------------------------------------------------------------------------


def test_each_kind_of_bad_row_is_reported_with_its_number_and_field() -> None:
    roster = read_csv(
        csv_bytes(
            ADA,  # 2
            "not-an-address,Bob,Builder,M1,Maths,en",  # 3
            "carl@example.org,,Gauss,M1,Maths,en",  # 4
            "dora@example.org,Dora,   ,M1,Maths,en",  # 5
            "emmy@example.org,Emmy,Noether,M1,Maths,de",  # 6
            "ADA@example.org ,Ada,Lovelace,MATH101,Mathematics 101,en",  # 7
            "fred@example.org,Fred,Brooks,,Maths,en",  # 8
            "gail@example.org,Gail,Smith,M1,,fr",  # 9
            GRACE,  # 10
        )
    )
    assert [n for n, _ in roster.rows] == [2, 10]
    rejected = {r["row"]: r["errors"] for r in roster.rejected}
    assert sorted(rejected) == [3, 4, 5, 6, 7, 8, 9]
    assert rejected[3] == {"email": ["Not a valid email address."]}
    assert rejected[4] == {"first_name": ["Required."]}
    assert rejected[5] == {"last_name": ["Required."]}
    assert list(rejected[6]) == ["language"]
    assert "en, fr" in rejected[6]["language"][0]
    assert list(rejected[7]) == ["_row"]
    assert "row 2" in rejected[7]["_row"][0]
    assert rejected[8] == {"evaluation_ref": ["Required."]}
    assert rejected[9] == {"evaluation_name": ["Required."]}


def test_a_row_with_several_errors_reports_all_of_them() -> None:
    roster = read_csv(csv_bytes("nope,,,M1,Maths,xx"))
    assert roster.rows == []
    assert roster.rejected == [
        {
            "row": 2,
            "errors": {
                "email": ["Not a valid email address."],
                "first_name": ["Required."],
                "last_name": ["Required."],
                "language": roster.rejected[0]["errors"]["language"],
            },
        }
    ]


def test_language_is_read_without_case() -> None:
    roster = read_csv(csv_bytes("ada@example.org,Ada,Lovelace,M1,Maths, FR "))
    assert roster.rows[0][1]["language"] == "fr"


def test_a_duplicate_is_the_same_address_in_any_case_for_the_same_evaluation() -> None:
    roster = read_csv(
        csv_bytes(
            "Ada@Example.org,Ada,Lovelace,M1,Maths,en",  # 2
            "ada@example.org,Ada,Lovelace,M2,Physics,en",  # 3: another evaluation, fine
            " ADA@EXAMPLE.ORG,Augusta,King,M1,Maths,fr",  # 4: duplicate of 2
            "ada@example.org,Ada,Lovelace,M2,Physics,en",  # 5: duplicate of 3
        )
    )
    assert [(n, r["email"], r["evaluation_ref"]) for n, r in roster.rows] == [
        (2, "ada@example.org", "M1"),
        (3, "ada@example.org", "M2"),
    ]
    assert [r["row"] for r in roster.rejected] == [4, 5]
    assert "row 2" in roster.rejected[0]["errors"]["_row"][0]
    assert "row 3" in roster.rejected[1]["errors"]["_row"][0]


def test_names_that_look_like_formulas_are_kept_as_given() -> None:
    roster = read_csv(csv_bytes('ada@example.org,"=HYPERLINK(""http://x"",""y"")",+1,M1,@x,en'))
    assert roster.rejected == []
    row = roster.rows[0][1]
    assert row["first_name"] == '=HYPERLINK("http://x","y")'
    assert row["last_name"] == "+1"
    assert row["evaluation_name"] == "@x"


# -- sizes, encodings, content types ---------------------------------------------------------------


def test_more_rows_than_allowed_is_413_roster_too_large() -> None:
    raw = csv_bytes(*(f"p{i}@example.org,P,Q,M1,Maths,en" for i in range(11)))
    problem = problem_of(raw, max_rows=10)
    assert (problem.status, problem.error) == (413, "roster_too_large")
    assert problem.extra == {"rows": 11}
    assert len(read_csv(raw, max_rows=11).rows) == 11


def test_exactly_the_maximum_is_accepted() -> None:
    raw = csv_bytes(*(f"p{i}@example.org,P,Q,M1,Maths,en" for i in range(10)))
    assert len(read_csv(raw, max_rows=10).rows) == 10


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"", "text/csv"),
        (HEADER.encode(), "text/csv"),
        ((HEADER + "\r\n\r\n,,,,,\r\n").encode(), "text/csv"),
        (b"[]", "application/json"),
    ],
)
def test_an_empty_roster_is_400(raw: bytes, content_type: str) -> None:
    problem = problem_of(raw, content_type)
    assert (problem.status, problem.error) == (400, "roster_empty")


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_a_file_that_is_not_utf8_is_400_roster_encoding(content_type: str) -> None:
    text = HEADER + "\njose@example.org,José,Núñez,M1,Mathématiques,fr\n"
    if content_type == "application/json":
        text = json.dumps([{"email": "jose@example.org", "first_name": "José"}], ensure_ascii=False)
    problem = problem_of(text.encode("latin-1"), content_type)
    assert (problem.status, problem.error) == (400, "roster_encoding")
    assert "UTF-8" in problem.message


def test_utf8_names_are_read_as_written() -> None:
    raw = (HEADER + "\njose@example.org,José,Núñez,M1,Mathématiques,fr\n").encode()
    assert read_csv(raw).rows[0][1]["last_name"] == "Núñez"


@pytest.mark.parametrize(
    "content_type",
    ["application/xml", "multipart/form-data; boundary=x", "application/octet-stream", ""],
)
def test_an_unsupported_content_type_is_415(content_type: str) -> None:
    problem = problem_of(csv_bytes(ADA), content_type)
    assert (problem.status, problem.error) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["text/csv; charset=utf-8", "TEXT/CSV", "application/csv", "text/plain"]
)
def test_csv_content_type_variants_are_accepted(content_type: str) -> None:
    assert len(read_roster(csv_bytes(ADA), content_type, max_rows=10).rows) == 1


# -- JSON ------------------------------------------------------------------------------------------


def test_a_json_list_numbers_its_elements_from_one() -> None:
    items: list[Any] = [
        {
            "email": "Ada@Example.org",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "evaluation_ref": "M1",
            "evaluation_name": "Maths",
        },
        "grace@example.org",
        42,
        None,
        ["a", "b"],
        {
            "email": "grace@example.org",
            "first_name": "Grace",
            "last_name": "Hopper",
            "evaluation_ref": "M1",
            "evaluation_name": "Maths",
            "language": "fr",
            "phone": "ignored",
        },
        {"email": "nobody", "first_name": "N"},
    ]
    roster = read_roster(
        json.dumps(items).encode(), "application/json; charset=utf-8", max_rows=100
    )
    assert [(n, r["email"], r["language"]) for n, r in roster.rows] == [
        (1, "ada@example.org", "en"),
        (6, "grace@example.org", "fr"),
    ]
    assert "phone" not in roster.rows[1][1]
    rejected = {r["row"]: r["errors"] for r in roster.rejected}
    assert sorted(rejected) == [2, 3, 4, 5, 7]
    for n in (2, 3, 4, 5):
        assert rejected[n] == {"_row": ["Not an object."]}
    assert rejected[7]["email"] == ["Not a valid email address."]
    assert set(rejected[7]) == {"email", "last_name", "evaluation_ref", "evaluation_name"}


def test_json_values_that_are_not_strings_are_field_errors() -> None:
    item = {
        "email": "ada@example.org",
        "first_name": 7,
        "last_name": "Lovelace",
        "evaluation_ref": "M1",
        "evaluation_name": "Maths",
    }
    roster = read_roster(json.dumps([item]).encode(), "application/json", max_rows=10)
    assert roster.rows == []
    assert list(roster.rejected[0]["errors"]) == ["first_name"]


@pytest.mark.parametrize("raw", [b"{not json", b'{"email": "ada@example.org"}', b'"x"'])
def test_json_that_is_not_a_list_is_400_roster_syntax(raw: bytes) -> None:
    problem = problem_of(raw, "application/json")
    assert (problem.status, problem.error) == (400, "roster_syntax")


def test_a_json_list_over_the_maximum_is_413() -> None:
    raw = json.dumps([{} for _ in range(6)]).encode()
    problem = problem_of(raw, "application/json", max_rows=5)
    assert (problem.status, problem.error) == (413, "roster_too_large")
