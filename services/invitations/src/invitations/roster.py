"""Reading a roster: a CSV file with a header row, or a JSON list. Every bad row is reported
with its number and field errors; the good rows go through. A file that cannot be read as a
whole is refused (a ``RosterProblem``)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from invitations.domain import (
    RosterCsvUnreadable,
    RosterFileEmpty,
    RosterHeaderWrong,
    RosterJsonInvalid,
    RosterNotAList,
    RosterNotCsvOrJson,
    RosterNotUtf8,
    RosterTooLarge,
    RosterWithoutRows,
    normalise_email,
)
from invitations.schemas import RosterRowSchema

COLUMNS = ("email", "first_name", "last_name", "evaluation_ref", "evaluation_name", "language")
REQUIRED_COLUMNS = COLUMNS[:5]


@dataclass
class Roster:
    """Valid rows as (row number, fields) and rejected rows as {row, errors}. CSV rows are
    numbered as a spreadsheet shows them (the header is row 1); JSON elements from 1."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def read_roster(raw: bytes, content_type: str, *, max_rows: int) -> Roster:
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        items = _json_items(raw)
    elif mime in ("text/csv", "application/csv", "text/plain"):
        items = _csv_items(raw)
    else:
        raise RosterNotCsvOrJson()
    if len(items) > max_rows:
        raise RosterTooLarge(rows=len(items), max_rows=max_rows)
    if not items:
        raise RosterWithoutRows()
    return _check(items)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterNotUtf8() from None


def _json_items(raw: bytes) -> list[tuple[int, Any]]:
    try:
        data = json.loads(_text(raw))
    except json.JSONDecodeError as exc:
        raise RosterJsonInvalid(reason=exc.msg) from None
    if not isinstance(data, list):
        raise RosterNotAList()
    return list(enumerate(data, start=1))


def _csv_items(raw: bytes) -> list[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(_text(raw), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RosterFileEmpty() from None
    except csv.Error as exc:
        raise RosterCsvUnreadable(reason=str(exc)) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        raise RosterHeaderWrong(missing=missing, unknown=unknown, columns=", ".join(COLUMNS))
    items: list[tuple[int, Any]] = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # blank lines, as spreadsheets often leave at the end
            if len(values) != len(names):
                items.append((number, {"__columns__": len(values)}))
                continue
            items.append((number, dict(zip(names, values, strict=True))))
    except csv.Error as exc:
        raise RosterCsvUnreadable(reason=str(exc)) from None
    return items


def _check(items: list[tuple[int, Any]]) -> Roster:
    schema = RosterRowSchema()
    roster = Roster()
    seen: dict[tuple[str, str], int] = {}
    for number, item in items:
        if not isinstance(item, dict):
            roster.rejected.append({"row": number, "errors": {"_row": ["Not an object."]}})
            continue
        if "__columns__" in item:
            message = f"Has {item['__columns__']} values; the header names {len(COLUMNS)} or 5."
            roster.rejected.append({"row": number, "errors": {"_row": [message]}})
            continue
        try:
            row: dict[str, str] = schema.load(item)
        except ValidationError as exc:
            roster.rejected.append({"row": number, "errors": exc.messages_dict})
            continue
        row["email"] = normalise_email(row["email"])
        key = (row["email"], row["evaluation_ref"])
        if key in seen:
            message = f"Duplicate of row {seen[key]} (same email and evaluation)."
            roster.rejected.append({"row": number, "errors": {"_row": [message]}})
            continue
        seen[key] = number
        roster.rows.append((number, row))
    return roster
