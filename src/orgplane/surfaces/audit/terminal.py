"""The weekly audit in the terminal: one Rich table a section, every cell escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgplane.service.audit import WeeklyAudit
from orgplane.surfaces.audit.sections import sections, summary_line, window_line

if TYPE_CHECKING:
    from rich.console import Console


def print_audit(audit: WeeklyAudit, console: Console | None = None) -> None:
    """Print ``audit`` on ``console`` (stdout's by default): a title, the headline sentence,
    then each section as a table (or its one line when empty)."""
    from rich.table import Table

    from orgplane.surfaces.cli.output import console as stdout_console
    from orgplane.surfaces.cli.output import esc

    out = console or stdout_console()
    out.print(f"[bold]Weekly audit[/bold]: {esc(window_line(audit))}", soft_wrap=True)
    out.print(esc(summary_line(audit)), soft_wrap=True)
    for section in sections(audit):
        out.print()
        out.print(f"[bold]{esc(section.title)}[/bold]")
        if not section.rows:
            out.print(esc(section.empty))
            continue
        table = Table(show_lines=False)
        for column in section.columns:
            table.add_column(esc(column), overflow="fold")
        for row in section.rows:
            table.add_row(*(esc(cell) for cell in row))
        out.print(table)
