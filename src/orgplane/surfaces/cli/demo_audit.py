"""The demo's last step: the weekly audit of what the demo just went through, as the COO reads
it on Monday (``orgplane audit weekly``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orgplane.service.session import Session


def step_audit(demo: Session) -> None:
    """Print the weekly audit of the seven days before now."""
    from rich.rule import Rule

    from orgplane.service.audit import weekly_audit
    from orgplane.surfaces.audit import print_audit
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    out.print(Rule("Monday: the weekly audit the COO reads"))
    out.print(f"[bold]{esc(demo.command('audit', 'weekly'))}[/bold]")
    print_audit(weekly_audit(demo))
