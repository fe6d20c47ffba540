"""The candidate pages in French: every text that the templates and views can show has a
French translation in the catalog, with the same placeholders, and a page asked for in French
comes out in French through the real application.

The texts are extracted from the current sources here, with the mapping of ``gateway/babel.cfg``
that ``make translations-update`` uses, so a text added to a template or a view without its
translation fails this test, named. The catalog is compiled here too: the test does not depend
on the ``messages.mo`` that ``make translations`` builds."""

from __future__ import annotations

import ast
import html
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from gateway import create_app
from gateway.config import SERVICES, GatewaySettings

GATEWAY = Path(__file__).resolve().parents[1]
WEB = GATEWAY / "src" / "gateway" / "web"
BABEL_CFG = GATEWAY / "babel.cfg"
FRENCH_PO = WEB / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
#: pybabel's default keywords and the one the Makefile adds (-k lazy_gettext)
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
#: the functions whose first argument is a text to translate, for the syntax-tree pass
GETTEXT_NAMES = {"gettext", "_", "lazy_gettext"}
NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdirf]")
BRACE_PLACEHOLDER = re.compile(r"\{(\w*)\}")
#: Jinja's newstyle gettext marks a translation safe (no escaping) and always applies
#: ``% variables`` to it: a translation must not bring markup or a bare percent sign
UNESCAPED = '<>&"'


@dataclass(frozen=True)
class Needed:
    msgid: str
    where: str
    extracted: bool
    context: str | None = None


def french_catalog() -> Catalog:
    with FRENCH_PO.open("rb") as po:
        return read_po(po, locale="fr")


def extracted_messages() -> Iterator[Needed]:
    """What ``pybabel extract -F gateway/babel.cfg`` finds in the web package today."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    found = extract_from_dir(str(WEB), method_map, options_map, keywords=KEYWORDS)
    for filename, lineno, message, _comments, context in found:
        # ngettext gives (singular, plural): the catalog files both under the singular
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            yield Needed(msgid, f"{filename}:{lineno}", extracted=True, context=context)


def gettext_calls() -> Iterator[Needed]:
    """Every gettext("...") in the views, read from the syntax tree: this also sees the calls
    that pybabel's Python extractor misses, such as one inside an f-string on Python 3.11."""
    for path in sorted(WEB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_NAMES
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(WEB)}:{node.lineno}"
                yield Needed(node.args[0].value, where, extracted=False)


def test_every_page_text_has_a_french_translation() -> None:
    catalog = french_catalog()
    needed = list(extracted_messages())
    extracted = {n.msgid for n in needed}
    assert len(extracted) > 50, "the extraction found almost nothing: is babel.cfg right?"
    needed += [n for n in gettext_calls() if n.msgid not in extracted]
    problems = []
    for need in needed:
        message = catalog.get(need.msgid, need.context)
        if message is None:
            hint = "" if need.extracted else " (pybabel does not extract it: inside an f-string?)"
            problems.append(f"{need.where}: not in the French catalog{hint}: {need.msgid!r}")
        elif message.fuzzy:
            problems.append(f"{need.where}: fuzzy in the French catalog: {need.msgid!r}")
        elif not all(message.string if isinstance(message.string, tuple) else [message.string]):
            problems.append(f"{need.where}: no French translation: {need.msgid!r}")
    assert not problems, (
        "texts missing in French (run `make translations-update`, then translate them in "
        f"{FRENCH_PO.relative_to(GATEWAY.parent)}):\n" + "\n".join(sorted(set(problems)))
    )


def test_french_translations_keep_the_placeholders_and_add_no_markup() -> None:
    catalog = french_catalog()
    assert not catalog.fuzzy, "the catalog header is fuzzy: pybabel compile would skip it all"
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        for msgid, text in zip(
            message.id if isinstance(message.id, tuple) else (message.id,),
            message.string if isinstance(message.string, tuple) else (message.string,),
            strict=False,
        ):
            for pattern in (NAMED_PLACEHOLDER, BRACE_PLACEHOLDER):
                if sorted(pattern.findall(msgid)) != sorted(pattern.findall(text)):
                    problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
            if "%" in NAMED_PLACEHOLDER.sub("", text).replace("%%", ""):
                problems.append(f"a bare % (write %%): {text!r}")
            added = [c for c in UNESCAPED if c in text and c not in msgid]
            if added:
                problems.append(f"{''.join(added)} would reach the page unescaped: {text!r}")
    for message, errors in catalog.check():
        problems += [f"babel: {error} in {message.id!r}" for error in errors]
    assert not problems, "\n".join(sorted(set(problems)))


def closed_url() -> str:
    """An address where nothing listens: the sign-in pages render without the services."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def french_gateway(tmp_path: Path) -> Flask:
    """The gateway with the French catalog compiled from the .po now, in tmp_path."""
    compiled = tmp_path / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"
    compiled.parent.mkdir(parents=True)
    with compiled.open("wb") as mo:
        write_mo(mo, french_catalog())
    environ = {f"{name.upper()}_URL": closed_url() for name in SERVICES}
    app = create_app(GatewaySettings.from_env({"NEXAM_VAR_DIR": str(tmp_path / "var"), **environ}))
    # Flask-Babel read BABEL_TRANSLATION_DIRECTORIES when create_app set it up
    app.extensions["babel"].translation_directories = [str(tmp_path / "translations")]
    return app


@pytest.mark.parametrize(
    ("path", "french", "english"),
    [
        ("/connexion", ["Se connecter", "Mot de passe oublié"], ["Sign in", "Forgot password"]),
        (
            "/connexion/code-invitation",
            ["Code d'invitation", "Activer"],
            ["Invitation code", "Activate"],
        ),
        ("/connexion/mot-de-passe-oublie", ["Mot de passe oublié"], ["Forgot password"]),
    ],
)
def test_pages_asked_for_in_french_come_out_in_french(
    french_gateway: Flask, path: str, french: list[str], english: list[str]
) -> None:
    response = french_gateway.test_client().get(path, headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert '<html lang="fr">' in page
    for text in french:
        assert text in page, text
    for text in english:
        assert text not in page, text
    assert "Politique de confidentialité" in page and "Conditions d'utilisation" in page
