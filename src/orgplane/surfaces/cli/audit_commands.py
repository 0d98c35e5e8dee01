"""``audit`` commands: ``readiness`` now; the weekly incident audit stands beside it later."""

from __future__ import annotations

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

audit_app = typer.Typer(
    help="Audits of the org: is the failure response written down?", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command()
def readiness(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Gaps in the failure response written down in advance; exit 1 if any."""
    from rich.table import Table

    from orgplane.service.org import readiness as audit
    from orgplane.surfaces.cli.output import console, emit_json, esc

    report = audit(ctx.obj)
    if as_json:
        emit_json(report)
    elif report.ok:
        console().print("[green]ready[/green]: every process and output has its failure response")
    else:
        table = Table(show_lines=False)
        for column in ("subject", "question", "gap and fix"):
            table.add_column(column, overflow="fold")
        for gap in report.gaps:
            table.add_row(
                esc(f"{gap.subject_kind} {gap.subject_id}"), gap.question_text, esc(gap.message)
            )
        console().print(table)
        count = len(report.gaps)
        console().print(f"{count} gap{'s' if count != 1 else ''} in the written-down response")
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)
