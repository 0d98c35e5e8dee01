"""Recording every statement any engine sends, to prove what a step did or did not write."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|BEGIN IMMEDIATE|REPLACE)\b|pg_advisory", re.I
)


@dataclass
class Recorded:
    statements: list[str] = field(default_factory=list)
    on_write_connections: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        """Statements that write, or that ran in a transaction opened to write."""
        return [s for s in self.statements if _WRITES.search(s)] + self.on_write_connections


@contextmanager
def recording() -> Iterator[Recorded]:
    """Every statement sent through any SQLAlchemy engine while the block runs."""
    recorded = Recorded()

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        recorded.statements.append(statement)
        if conn.get_execution_options().get("orgplane_write"):
            recorded.on_write_connections.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield recorded
    finally:
        event.remove(Engine, "before_cursor_execute", before)
