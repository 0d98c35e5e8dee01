"""What every service result shares: a pydantic base that dumps to the JSON surfaces print."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """Base of every service result: immutable, and ``as_json()`` is its ``--json`` shape."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def as_json(self) -> dict[str, Any]:
        """The result as JSON-ready data: times as ISO 8601 with their offset (``+00:00``),
        durations as ``18h``, everywhere in the tree (free-form ``details`` included)."""
        data: dict[str, Any] = jsonable(self.model_dump())
        return data


def jsonable(value: Any) -> Any:
    """``value`` with every time and duration turned into the text the JSON shapes use."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        from orgplane.org.durations import format_duration

        return format_duration(value)
    return value
