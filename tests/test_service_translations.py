"""Every service speaks English and French: each text a service can say to a person (a
refusal, an email) has a French translation in its catalog, with the same placeholders.

The texts are found in the sources here: calls of ``say``, ``N_``, ``_`` and ``gettext`` with
a written text, and the texts of the Jinja templates (as ``pybabel extract`` finds them). A
text added without its translation fails this test, named."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

SERVICES = ("identity", "invitations", "notifier", "exams", "devicecheck")
MARKERS = {"say", "N_", "_", "gettext"}
PLACEHOLDERS = (re.compile(r"%\((\w+)\)[sdirf]"), re.compile(r"\{(\w*)\}"))


def package_folder(service: str) -> Path:
    return Path(str(files(service)))


def french(service: str) -> Catalog:
    po = package_folder(service) / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    assert po.is_file(), f"{service} has no French catalog at {po}"
    with po.open("rb") as stream:
        return read_po(stream, locale="fr")


def said_in_code(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first.value, f"{path.relative_to(folder)}:{node.lineno}"


def said_in_templates(folder: Path) -> Iterator[tuple[str, str]]:
    templates = folder / "templates"
    if not templates.is_dir():
        return
    method_map = [("**.html", "jinja2"), ("**.txt", "jinja2")]
    options = {
        "**.html": {"extensions": "jinja2.ext.i18n"},
        "**.txt": {"extensions": "jinja2.ext.i18n"},
    }
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(templates), method_map, options
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            yield msgid, f"templates/{filename}:{lineno}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_text_a_service_says_has_a_french_translation(service: str) -> None:
    folder = package_folder(service)
    catalog = french(service)
    needed = [*said_in_code(folder), *said_in_templates(folder)]
    assert needed, f"{service}: no text found to translate"
    problems = []
    for msgid, where in needed:
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"{where}: not in the French catalog: {msgid!r}")
        elif message.fuzzy or not message.string:
            problems.append(f"{where}: no French translation: {msgid!r}")
        else:
            for pattern in PLACEHOLDERS:
                if sorted(pattern.findall(msgid)) != sorted(pattern.findall(str(message.string))):
                    problems.append(f"{where}: placeholders differ: {msgid!r}")
    assert not problems, f"{service}:\n" + "\n".join(sorted(set(problems)))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_catalog_holds_no_forgotten_text(service: str) -> None:
    """A text no longer said is taken out of the catalog, so translators work on what is."""
    folder = package_folder(service)
    said = {msgid for msgid, _where in [*said_in_code(folder), *said_in_templates(folder)]}
    kept = {str(message.id) for message in french(service) if message.id}
    assert kept <= said, f"{service}: in the catalog, said nowhere: {sorted(kept - said)}"
