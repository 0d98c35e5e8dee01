"""Rendering for the CLI: Rich for people, plain JSON for programs.

Rich is imported on first use, so ``--help`` and commands that fail early never pay for it.
Every text that comes from outside (names, messages, file contents, record ids) goes through
:func:`esc` before it is put in markup, so ``[timeout]`` prints as ``[timeout]``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from orgplane.service.models import Result


@cache
def console() -> Console:
    """The console on stdout."""
    from rich.console import Console

    return Console(highlight=False)


@cache
def err_console() -> Console:
    """The console on stderr (errors, progress)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def esc(value: object) -> str:
    """``value`` as text that Rich prints verbatim inside markup."""
    from rich.markup import escape

    return escape(str(value))


def emit_json(result: Result | dict[str, Any] | list[Any]) -> None:
    """Write a result as indented JSON on stdout (times as ISO 8601, durations as ``18h``)."""
    data = result if isinstance(result, dict | list) else result.as_json()
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def error_line(message: str) -> None:
    """One error line on stderr, plain enough to grep; the message is printed verbatim."""
    err_console().print(f"[red]error:[/red] {esc(message)}", soft_wrap=True)


class RichProgress:
    """A Rich progress bar on stderr that a service use case drives (see service.progress)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        self._bar = Progress(*columns, console=err_console(), transient=True)
        self._task: Any = None

    def begin(self, label: str, total: int, completed: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task(esc(label), total=total, completed=completed)

    def advance(self, units: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, units)

    def stop(self) -> None:
        self._bar.stop()


@contextmanager
def progress_bar(quiet: bool) -> Iterator[RichProgress | None]:
    """A progress bar for a use case, or None when ``quiet`` (JSON output)."""
    if quiet:
        yield None
        return
    bar = RichProgress()
    try:
        yield bar
    finally:
        bar.stop()
