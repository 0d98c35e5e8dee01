"""The drill command: ``drill SCENARIO [--subject ID]``. Thin: every rule lives in
:mod:`orgplane.service.drills` and :mod:`orgplane.learn.drills`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from orgplane.service.drills import DrillReport, DrillStep


@app.command()
def drill(
    ctx: typer.Context,
    scenario: str = typer.Argument(
        ...,
        help="crash-mid-batch, stale-state, corrupt-timestamp, missed-push, seat-on-empty, "
        "unknown-error, or all.",
    ),
    subject: str | None = typer.Option(
        None, "--subject", help="Run only on this output, metric, process or seat."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Inject SCENARIO into a scratch copy of the org and store, through the real detection
    and decision code, and score each step against the response the org declares. Only the
    scores are kept in the live store. Exit 1 when a step fails or a response is missing."""
    from orgplane.service.drills import run_drill
    from orgplane.surfaces.cli.output import progress_bar

    with progress_bar(quiet=as_json) as progress:
        report = run_drill(ctx.obj, scenario, subject=subject, progress=progress)
    if as_json:
        from orgplane.surfaces.cli.output import emit_json

        emit_json(report)
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _render(report: DrillReport) -> None:
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    out = console()
    table = Table(show_lines=True, pad_edge=False)
    for column in ("drill", "detected", "decided (expected)", "told", "a person must", "result"):
        table.add_column(column, overflow="fold")
    for step in report.steps:
        table.add_row(
            f"{esc(step.scenario)}\n{esc(step.subject_kind)} {esc(step.subject_id)}",
            _detected(step),
            _decided(step),
            _told(step),
            esc(step.person_must),
            "[green]passed[/green]" if step.passed else "[red]failed[/red]",
        )
    out.print(table)
    for line in report.skipped:
        out.print(f"[yellow]skipped[/yellow] {esc(line)}")
    for step in report.steps:
        for why in step.failures:
            out.print(
                f"[red]{esc(step.scenario)} {esc(step.subject_id)}:[/red] {esc(why)}",
                soft_wrap=True,
            )
    notes = dict.fromkeys(n for step in report.steps for n in step.notes)
    for note in notes:
        out.print(f"[dim]note: {esc(note)}[/dim]", soft_wrap=True)
    verdict = "[green]every step passed[/green]" if report.ok else "[red]failed[/red]"
    out.print(
        f"{verdict}: {report.passed} of {len(report.steps)} step(s); only the scores were "
        "stored (nothing else of a drill reaches the live store)"
    )


def _detected(step: DrillStep) -> str:
    from orgplane.surfaces.cli.output import esc

    if not step.detected:
        return "[red]no[/red]"
    took = f" in {step.detect_ms} ms" if step.detect_ms is not None else ""
    return f"[green]{esc(step.event_kind or 'yes')}[/green]{took}"


def _decided(step: DrillStep) -> str:
    from orgplane.surfaces.cli.output import esc

    chosen = f"{step.chosen_tier or '-'}/{step.chosen_action or '-'}"
    expected = f"{step.expected_tier or 'none declared'}/{step.expected_action or '-'}"
    colour = "green" if step.decision_matches else "red"
    took = f" in {step.decide_ms} ms" if step.decide_ms is not None else ""
    return f"[{colour}]{esc(chosen)}[/{colour}]{took}\n({esc(expected)})"


def _told(step: DrillStep) -> str:
    from orgplane.surfaces.cli.output import esc

    if step.told is None:
        return esc(step.told_when)
    reach = (
        "[green]reachable[/green]"
        if step.reachable
        else "[red]unreachable[/red]"
        if step.reachable is False
        else ""
    )
    return f"{esc(step.told)} {reach}\n{esc(step.told_when)}"
