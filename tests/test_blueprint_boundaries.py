"""The intake does not reach into the website's views: a refused form is shown again through
the page renderer the site offers, by path. The page itself is tested in test_intake.py."""

from __future__ import annotations

import ast
from pathlib import Path

import crm.intake

INTAKE = Path(crm.intake.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_intake_imports_nothing_from_the_site():
    offenders = {
        path.name: sorted(name for name in imported_modules(path) if name.startswith("crm.site"))
        for path in INTAKE.glob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}
