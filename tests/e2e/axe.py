"""axe-core checks on a Playwright page, reported so that a failure says what to fix and where."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_axe = Axe()


def blocking_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of serious or critical impact on the page as it is now."""
    results = _axe.run(page)
    return [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in BLOCKING_IMPACTS
    ]


# axe-core only flags an id that labels or describes two elements as "needs review", yet such a
# label names one field and leaves the other unnamed; this finds them outright.
_AMBIGUOUS_REFERENCES = """() => {
  const referenced = new Set();
  document.querySelectorAll('label[for]').forEach(label => referenced.add(label.htmlFor));
  document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls]')
    .forEach(node => ['aria-describedby', 'aria-labelledby', 'aria-controls'].forEach(name =>
      (node.getAttribute(name) || '').split(/\\s+/).filter(Boolean)
        .forEach(id => referenced.add(id))));
  return [...referenced].filter(id =>
    document.querySelectorAll('[id="' + CSS.escape(id) + '"]').length !== 1).sort();
}"""


def ambiguous_references(page: Any) -> list[str]:
    """Ids that a label or an ARIA attribute points at but that name no element, or several."""
    return page.evaluate(_AMBIGUOUS_REFERENCES)


_REPEATED_IDS = """() => {
  const seen = new Map();
  document.querySelectorAll('[id]')
    .forEach(node => seen.set(node.id, (seen.get(node.id) || 0) + 1));
  return [...seen].filter(([, count]) => count > 1).map(([id]) => id).sort();
}"""


def repeated_ids(page: Any) -> list[str]:
    """Ids given to more than one element: invalid HTML, and a trap for any later label."""
    return page.evaluate(_REPEATED_IDS)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str) -> None:
    violations = blocking_violations(page)
    assert not violations, f"axe-core found problems on {where}:\n{describe(violations)}"
    ambiguous = ambiguous_references(page)
    assert not ambiguous, (
        f"labels or ARIA attributes on {where} point at missing or repeated ids: {ambiguous}"
    )
    repeated = repeated_ids(page)
    assert not repeated, f"ids used more than once on {where}: {repeated}"


def small_targets(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 target-size rule alone (24 by 24 CSS px, with its exceptions for
    links inside a sentence and for targets with enough space around them)."""
    results = _axe.run(
        page,
        options={"runOnly": {"type": "rule", "values": ["target-size"]}},
    )
    return results.response["violations"]
