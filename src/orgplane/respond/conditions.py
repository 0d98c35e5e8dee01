"""A tiny comparison grammar for conditions written in org.yaml (``pending > 100``), parsed
here and never handed to eval.

    condition := clause ("and" clause)*
    clause    := name op value
    name      := a key of the event's context, dotted for nested keys (``counts.pending``)
    op        := > | >= | < | <= | == | !=
    value     := a number, true / false, 'quoted' or "quoted" text, or a bare word
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_CLAUSE = re.compile(
    r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*
    (?P<op>>=|<=|==|!=|>|<)\s*
    (?P<value>-?\d+(?:\.\d+)?|'[^']*'|"[^"]*"|[A-Za-z_][A-Za-z0-9_.:-]*)\s*$""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+and\s+")
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
MAX_CONDITION = 500
"""A condition longer than this is refused: a rule is a few comparisons, not a program."""


@dataclass(frozen=True)
class Clause:
    """One comparison of a context value with a literal."""

    name: str
    op: str
    value: float | bool | str

    def holds(self, context: Mapping[str, Any]) -> bool:
        """True when the context has ``name`` and it compares as written; a missing key, or an
        ordering between a number and text, is False (a rule never fires on what is not there)."""
        found, actual = _lookup(context, self.name)
        if not found:
            return False
        if self.op in ("==", "!="):
            equal = _same(actual, self.value)
            return equal if self.op == "==" else not equal
        if not (_is_number(actual) and _is_number(self.value)):
            return False
        return _ORDERING[self.op](actual, self.value)


@dataclass(frozen=True)
class Condition:
    """Every clause of a parsed condition; it holds when all of them do."""

    text: str
    clauses: tuple[Clause, ...]

    def holds(self, context: Mapping[str, Any]) -> bool:
        """True when every clause holds on ``context``."""
        return all(clause.holds(context) for clause in self.clauses)


def parse_condition(text: str) -> Condition:
    """Parse ``text``; ValueError naming the clause and the form expected when it is not one."""
    if len(text) > MAX_CONDITION:
        raise ValueError(f"a condition is at most {MAX_CONDITION} characters; split the rule")
    parts = _AND.split(text.strip())
    clauses = []
    for part in parts:
        match = _CLAUSE.match(part)
        if match is None:
            raise ValueError(
                f"condition {part.strip()[:60]!r} is not 'name op value': "
                "write e.g. 'pending > 100' (ops > >= < <= == !=, clauses joined by 'and')"
            )
        clauses.append(Clause(match["name"], match["op"], _literal(match["value"])))
    return Condition(text, tuple(clauses))


def _literal(raw: str) -> float | bool | str:
    if raw[0] in "'\"":
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return float(raw)
    except ValueError:
        return raw


def _lookup(context: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    node: Any = context
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _same(actual: Any, expected: float | bool | str) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if _is_number(expected):
        return _is_number(actual) and float(actual) == expected
    return isinstance(actual, str) and actual == expected
