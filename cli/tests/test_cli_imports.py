"""``nexam`` is a client of the public API: it imports no service and not ``contracts``, only
the standard library and its own dependencies."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nexam_cli"
ALLOWED = {"click", "requests", "rich", "nexam_cli"} | set(sys.stdlib_module_names)


def imported_names(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_the_tool_imports_only_the_standard_library_and_its_dependencies() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 5
    outside = {str(m.name): imported_names(m) - ALLOWED for m in modules}
    assert {name: found for name, found in outside.items() if found} == {}
