"""``audit`` commands: ``readiness`` (is the failure response written down?) and ``weekly``
(the week's incidents and learnings, what the COO reads on Monday)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from orgplane.service.org import Readiness

audit_app = typer.Typer(
    help="Audits of the org: is the failure response written down, what did the week teach?",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command()
def readiness(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Gaps in the failure response written down in advance, the latest drill of each scenario
    and subject (a failed one is a gap) and what was never drilled; exit 1 if any gap."""
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
    if not as_json:
        _render_drills(report)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _render_drills(report: Readiness) -> None:
    from orgplane.surfaces.cli.output import console, esc

    out = console()
    if report.drills:
        failed = [d for d in report.drills if not d.passed]
        out.print(
            f"drills: {len(report.drills)} latest result(s), "
            + (f"[red]{len(failed)} failed[/red]" if failed else "[green]all passed[/green]")
        )
    for item in report.undrilled:
        out.print(f"[yellow]never drilled[/yellow]: {esc(item.message)}", soft_wrap=True)


class AuditFormat(StrEnum):
    text = "text"
    md = "md"
    html = "html"


@audit_app.command()
def weekly(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None,
        "--since",
        help="Start of the seven days: a date (midnight in the org's timezone) or an ISO time "
        "with its offset (default: the seven days before now).",
    ),
    fmt: AuditFormat = typer.Option(
        AuditFormat.text, "--format", help="text (default, tables), md or html (one page)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """The week's incidents by seat and tier, time to detect / decide / recover (median and
    worst), repeats, learnings applied and those that did not hold, follow-ups overdue,
    decisions past their deadline and how the org changed. Exit 1 when a follow-up is overdue
    or a decision is past its deadline."""
    import sys

    from orgplane.errors import UsageError
    from orgplane.service.audit import weekly_audit
    from orgplane.surfaces.cli.output import emit_json

    if as_json and fmt is not AuditFormat.text:
        raise UsageError(f"--json and --format {fmt.value} disagree; give one of them")
    audit = weekly_audit(ctx.obj, since=since)
    if as_json:
        emit_json(audit)
    elif fmt is AuditFormat.text:
        from orgplane.surfaces.audit import print_audit

        print_audit(audit)
    else:
        from orgplane.surfaces.audit import render_html, render_markdown

        text = render_html(audit) if fmt is AuditFormat.html else render_markdown(audit)
        sys.stdout.write(text)  # never through Rich: the text is the document, not markup
        sys.stdout.flush()
    if audit.counts.follow_ups_overdue or audit.counts.decisions_late:
        raise typer.Exit(EXIT_FINDINGS)
