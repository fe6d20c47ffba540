"""Golden examples: one complete envelope per event contract, shipped as package data.

Each file is named ``<Type>.v<version>.json``. The tests keep them in step with the
contracts and with the AsyncAPI document, so they are safe to use as fixtures anywhere.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

_NAME = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)\.v(?P<version>[1-9][0-9]*)\.json$")


def example_filename(event_type: str, version: int = 1) -> str:
    return f"{event_type}.v{version}.json"


def load_example(event_type: str, version: int = 1) -> dict[str, Any]:
    """A fresh copy of the example envelope of ``event_type`` at ``version``.

    Raises ``LookupError`` when there is no such example.
    """
    resource = _folder() / example_filename(event_type, version)
    if not resource.is_file():
        raise LookupError(f"no example for {event_type} v{version}")
    return _read(resource)


def all_examples() -> dict[tuple[str, int], dict[str, Any]]:
    """Every example, keyed by ``(type, version)`` as read from its file name.

    Raises ``ValueError`` for a JSON file whose name does not follow the pattern, so that a
    misnamed example cannot go unnoticed.
    """
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for resource in sorted(_folder().iterdir(), key=lambda r: r.name):
        if not resource.name.endswith(".json"):
            continue
        match = _NAME.match(resource.name)
        if match is None:
            raise ValueError(f"example file {resource.name!r} is not named <Type>.v<N>.json")
        found[(match["type"], int(match["version"]))] = _read(resource)
    return found


def _folder() -> Traversable:
    return files(__name__)


def _read(resource: Traversable) -> dict[str, Any]:
    body = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(body, dict):
        raise ValueError(f"example file {resource.name!r} does not hold a JSON object")
    return body
