"""``audit`` commands: ``readiness`` now; the weekly incident audit stands beside it later."""

from __future__ import annotations

import typer
from rich.table import Table

from orgplane.org.readiness import readiness_gaps
from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.output import console, emit_json

audit_app = typer.Typer(help="Audits of the org: is the failure response written down?")
app.add_typer(audit_app, name="audit")

QUESTIONS = {
    "checkpoints": "where are the checkpoints?",
    "downstream": "what does the downstream seat do?",
    "decision": "who decides, and how fast?",
    "learning": "what enters the system?",
    "seat": "is the seat still needed?",
}


@audit_app.command()
def readiness(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Gaps in the failure response written down in advance; exit 1 if any."""
    cli: CliContext = ctx.obj
    gaps = readiness_gaps(cli.org())
    if as_json:
        emit_json({"ok": not gaps, "gaps": [g.as_dict() for g in gaps]})
    elif not gaps:
        console.print("[green]ready[/green]: every process and output has its failure response")
    else:
        table = Table(show_lines=False)
        for column in ("subject", "question", "gap and fix"):
            table.add_column(column, overflow="fold")
        for gap in gaps:
            table.add_row(
                f"{gap.subject_kind} {gap.subject_id}", QUESTIONS[gap.question], gap.message
            )
        console.print(table)
        console.print(
            f"{len(gaps)} gap{'s' if len(gaps) != 1 else ''} in the written-down response"
        )
    if gaps:
        raise typer.Exit(1)
