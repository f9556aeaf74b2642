"""Print which part of ``crm`` imports which: the package-level import picture.

    python tools/import_graph.py [ROOT]      # ROOT defaults to the crm package next to tools/

A part is a subpackage (``crm.leads``, ``crm.mail``, ``crm.platform``, ...) or a top-level module
(``crm.policy``).
Each line is one dependency, ``importer -> imported``, followed by the importing modules, so a
seam that should not exist (``crm.mail -> crm.leads``) shows where it comes from. Imports made
inside functions and under ``TYPE_CHECKING`` count too: they tie the parts together all the same.
The source is read with ``ast``; nothing is imported or run.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """``crm.leads.export.rows`` -> ``crm.leads``; ``crm.policy`` -> ``crm.policy``."""
    return ".".join(module.split(".")[:2])


def imported_modules(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # ``from crm import models`` names a subpackage, not a name in crm/__init__.
            found.update(f"{target}.{alias.name}" for alias in node.names if target == "crm")
    return found


def import_graph(root: Path) -> dict[tuple[str, str], set[str]]:
    """(importer part, imported part) -> the importing modules, for parts of ``root``."""
    top = root.name
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        source = part_of(module)
        for target in imported_modules(path, module):
            if not target.startswith(top + ".") or target.count(".") < 1:
                continue
            destination = part_of(target)
            where = root.parent / destination.replace(".", "/")
            if destination != source and (where.is_dir() or where.with_suffix(".py").exists()):
                edges[(source, destination)].add(module)
    return edges


def _short(module: str, part: str) -> str:
    if module == part:
        return "__init__" if "." not in part else part.rpartition(".")[2]
    return module.removeprefix(part + ".")


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "crm"
    edges = import_graph(root.resolve())
    for (source, destination), modules in sorted(edges.items()):
        names = ", ".join(sorted(_short(name, source) for name in modules))
        print(f"{source} -> {destination}  ({names})")
    cycles = sorted(
        {tuple(sorted(pair)) for pair in edges if (pair[1], pair[0]) in edges},
    )
    print()
    print(f"{len(edges)} dependencies between parts of {root.name}/")
    for first, second in cycles:
        print(f"import each other: {first} <-> {second}")
    if not cycles:
        print("no two parts import each other")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
