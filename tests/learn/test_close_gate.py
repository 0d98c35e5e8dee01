"""The close gate has one door: no code but ``learn/learnings.py`` sets an incident closed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "orgplane"
GATE = SRC / "learn" / "learnings.py"


def _updates_incidents(node: ast.AST) -> bool:
    """True when a ``.values(...)`` chain starts from ``update(incidents)``."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "update" and node.args:
                target = node.args[0]
                name = target.attr if isinstance(target, ast.Attribute) else ""
                return getattr(target, "id", name) == "incidents" or name == "incidents"
            node = func
        else:
            node = node.value
    return False


def _closers(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "values":
            continue
        closes = any(
            k.arg == "status" and isinstance(k.value, ast.Constant) and k.value.value == "closed"
            for k in node.keywords
        )
        if closes and _updates_incidents(node.func.value):
            found.append(node.lineno)
    return found


def test_only_the_gate_closes_an_incident() -> None:
    closers = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := _closers(path))
    }
    assert list(closers) == ["learn/learnings.py"], closers
    raw = re.compile(r"UPDATE\s+incidents\s+SET[^;]*status\s*=\s*'closed'", re.IGNORECASE)
    assert [p for p in SRC.rglob("*.py") if raw.search(p.read_text())] == []


def test_the_check_sees_a_closer() -> None:
    # The gate itself is found, so the check above could fail.
    assert _closers(GATE) != []
