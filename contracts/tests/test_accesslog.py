"""What the access logger redacts, and what it leaves as it was (no I/O; the deployed
gunicorn command is checked end to end in tests/test_access_log.py)."""

from __future__ import annotations

import pytest

from contracts.runtime.accesslog import REDACTED, redact_addresses, redact_atoms, redact_query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=7KQ2-M9XD-4PRT-WZ3H", f"code={REDACTED}"),
        ("lang=fr&token=abc&onglet=exams", f"lang=fr&token={REDACTED}&onglet=exams"),
        ("state=s;code=c", f"state={REDACTED};code={REDACTED}"),
        ("Code=X&TOKEN=Y", f"Code={REDACTED}&TOKEN={REDACTED}"),
        ("co%64e=X", f"co%64e={REDACTED}"),  # the name as the application decodes it
        ("refresh_token=X&client_secret=Y", f"refresh_token={REDACTED}&client_secret={REDACTED}"),
        ("status=pending&cursor=abc&email=a%40b.org", "status=pending&cursor=abc&email=a%40b.org"),
        ("code", "code"),
        ("", ""),
    ],
)
def test_secret_parameters_lose_their_value_and_nothing_else_changes(
    query: str, expected: str
) -> None:
    assert redact_query(query) == expected


def test_every_address_in_a_line_is_redacted() -> None:
    line = 'GET /connexion/code-invitation?code=X HTTP/1.1" "http://h/r?token=Y#top"'
    assert redact_addresses(line) == (
        f'GET /connexion/code-invitation?code={REDACTED} HTTP/1.1" "http://h/r?token={REDACTED}#top"'
    )


def test_credentials_in_headers_are_redacted_whatever_the_format() -> None:
    atoms = {
        "r": "GET /connexion/reset-password?token=Y HTTP/1.1",
        "q": "token=Y",
        "f": "http://h/connexion/code-invitation?code=X",
        "{authorization}i": "Bearer eyJ...",
        "{cookie}i": "__Host-session=abc",
        "{query_string}e": "code=X",
        "s": "200",
        "B": 123,
    }
    redacted = redact_atoms(atoms)
    assert "Y" not in str(redacted) and "X" not in str(redacted)
    assert redacted["{authorization}i"] == redacted["{cookie}i"] == REDACTED
    assert (redacted["s"], redacted["B"]) == ("200", 123)
