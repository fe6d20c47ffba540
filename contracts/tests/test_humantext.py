"""Human text: exactly the control characters, line and paragraph separators and lone
surrogates are refused, with the field named; names in every script go through. No I/O."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from marshmallow import Schema, ValidationError

from contracts.events.humantext import (
    CONTROL_MESSAGE,
    PATTERN,
    HumanText,
    has_control_characters,
    one_line,
)


class Person(Schema):
    first_name = HumanText(required=True)


def test_the_refused_characters_are_exactly_cc_line_and_paragraph_separators_and_surrogates() -> (
    None
):
    refused_categories = {"Cc", "Zl", "Zp", "Cs"}
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        refused = unicodedata.category(character) in refused_categories
        assert has_control_characters(f"Ada{character}") is refused, f"U+{code_point:04X}"


@pytest.mark.parametrize(
    "text",
    ["Ada\r\nBcc: evil@example.com", "Ada\tL", "A\x00", "A\x1b[31m", "A\x7f", "A\x85"]
    + ["A\u2028B", "A\u2029B", "lone \ud800 surrogate"],
)
def test_the_field_refuses_them_naming_itself(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Person().load({"first_name": text})
    assert refused.value.messages == {"first_name": [CONTROL_MESSAGE]}


@pytest.mark.parametrize(
    "name",
    [
        "Ada",
        "Zoë O'Brien-Łukasiewicz",
        "Jean\u00a0Dupont",  # a no-break space
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a zero-width non-joiner
        "\u0928\u093f\u0924\u094d\u200d\u092f",  # Devanagari: a zero-width joiner
        "山田 太郎",
        "=1+1",  # a spreadsheet's problem, solved where the CSV is written
    ],
)
def test_names_in_every_script_go_through(name: str) -> None:
    assert Person().load({"first_name": name}) == {"first_name": name}
    assert re.match(PATTERN, name)


def test_the_documented_pattern_refuses_what_the_field_refuses() -> None:
    for text in ("Ada\r\nBcc: x@x.org", "Ada\n", "A\tL", "A\x85", "A\u2028", "A\u2029", "\x7f"):
        assert re.match(PATTERN, text) is None, repr(text)


def test_one_line_makes_any_break_a_single_space() -> None:
    assert one_line("Ada\r\nBcc: evil@example.com") == "Ada Bcc: evil@example.com"
    assert one_line(" Ada\t\u2028\x85 Lovelace\x00") == "Ada Lovelace"
    assert one_line("Invitation\u00a0: Nexam") == "Invitation\u00a0: Nexam"
