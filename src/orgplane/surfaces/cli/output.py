"""Rendering for the CLI: Rich for people, plain JSON for programs."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from typing import Any

from rich.console import Console

from orgplane.org.durations import format_duration

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout (times as ISO 8601, durations as ``18h``)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def error_line(message: str) -> None:
    """One error line on stderr, plain enough to grep."""
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True, markup=True)
