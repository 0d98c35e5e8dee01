"""Commands of silent-failure detection: ``check``, ``watch``, ``publish``, ``heartbeat``,
``metric push`` and ``scorecard``. Thin: every rule lives in :mod:`orgplane.service.watch`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from orgplane.service.watch import FindingView, Scorecard

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
_COLOURS = {"fresh": "green", "up": "green", "late": "yellow", "running": "cyan"}

metric_app = typer.Typer(help="Push scorecard metric values.", no_args_is_help=True)
app.add_typer(metric_app, name="metric")


def _status(status: str) -> str:
    from orgplane.surfaces.cli.output import esc

    colour = _COLOURS.get(status, "red")
    return f"[{colour}]{esc(status)}[/{colour}]"


LISTED_IN_FULL = 50  # past this many findings, the table lists only the ones that are not ok


@app.command()
def check(
    ctx: typer.Context,
    every: bool = typer.Option(False, "--all", help="List every finding, ok ones too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One pass over every output, schedule, metric and heartbeat. Exit 1 if anything is not fresh."""
    from orgplane.service.watch import check as check_pass
    from orgplane.surfaces.cli.output import console, emit_json

    report = check_pass(ctx.obj)
    if as_json:
        emit_json(report)
    else:
        bad = sum(1 for f in report.findings if not f.ok)
        shown = report.findings
        if not every and len(shown) > LISTED_IN_FULL:
            shown = [f for f in shown if not f.ok]
        if shown:
            render_findings(shown, report.checked_at)
        if len(shown) < len(report.findings):
            console().print(
                f"{len(report.findings) - len(shown)} ok findings not listed (--all lists them)"
            )
        summary = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
        verdict = "[green]all fresh[/green]" if report.ok else f"[red]{bad} not fresh[/red]"
        console().print(f"{verdict} ({summary})")
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


def render_findings(findings: list[FindingView], now: datetime) -> None:
    """The findings as a table a person reads top to bottom (plain aligned text past
    :data:`LISTED_IN_FULL` rows: a Rich table of thousands of rows takes seconds to lay out)."""
    rows = [
        (
            f.status,
            f"{f.subject_kind} {f.subject_id}",
            f.seat or "",
            _ago(f.last_good_at, now, short=True),
            f.reason,
        )
        for f in findings
    ]
    headers = ("status", "what", "seat", "last good", "why")
    if len(rows) > LISTED_IN_FULL:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True))
            + "  "
            + row[-1]
            for row in [headers, *rows]
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    table = Table(show_lines=False, pad_edge=False)
    for column in headers:
        table.add_column(column, overflow="fold")
    for status, *cells in rows:
        table.add_row(_status(status), *(esc(c) for c in cells))
    console().print(table)


def _ago(moment: datetime | None, now: datetime, *, short: bool = False) -> str:
    from orgplane.org.durations import humanize_age

    if moment is None:
        return "never"
    if short:
        return f"{humanize_age(now - moment)} ago"
    return f"{moment.strftime('%Y-%m-%d %H:%M')} UTC ({humanize_age(now - moment)} ago)"


@app.command()
def watch(
    ctx: typer.Context,
    interval: str = typer.Option("30s", "--interval", help="Time between passes, e.g. 30s, 5m."),
    respond: bool = typer.Option(
        True,
        "--respond/--no-respond",
        help="Also decide every event within a second, send notifications and resume dead "
        "runs (default); --no-respond only detects.",
    ),
    send: bool = typer.Option(
        True,
        "--send/--no-send",
        help="Send notifications (default); --no-send queues them and sends nothing, a "
        "shadow run of a new org ('orgplane notifications' lists what would have gone).",
    ),
) -> None:
    """The daemon: check passes every interval (each transition recorded once as a failure
    event) and, unless --no-respond, every event decided within a second of its commit,
    notifications sent and dead runs resumed, until SIGTERM."""
    import logging

    from orgplane.service.watch import watch as run_watcher

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # A migration is not ten lines, a message sent not two: their libraries speak up on trouble.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apprise").setLevel(logging.WARNING)
    run_watcher(ctx.obj, interval, respond=respond, send=send)


@app.command()
def prune(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Delete history older than the org's retention (default 90d); the watcher also prunes a
    little every pass. Never what a current status depends on."""
    from orgplane.service.watch import prune as prune_history
    from orgplane.surfaces.cli.output import console, emit_json, err_console

    if as_json:
        emit_json(prune_history(ctx.obj))
        return
    with err_console().status("pruning history ..."):
        done = prune_history(ctx.obj)
    console().print(
        f"pruned {done.total} rows older than {done.retention} "
        f"(before {done.cutoff.isoformat(timespec='seconds')}): {done.pings} pings, "
        f"{done.metric_values} metric values, {done.watch_transitions} transitions, "
        f"{done.publishes} publishes, {done.gate_answers} gate answers"
    )


@app.command()
def publish(
    ctx: typer.Context,
    output: str = typer.Argument(..., help="The output id declared in org.yaml."),
    file: Path | None = typer.Option(None, "--file", help="Read the content from F, not stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish an output's content through orgplane; prints its classification (exit 1 if bad)."""
    from orgplane.service.watch import publish as publish_content
    from orgplane.surfaces.cli.output import console, emit_json, esc

    result = publish_content(ctx.obj, output, file if file is not None else sys.stdin.buffer)
    if as_json:
        emit_json(result)
    else:
        finding = result.finding
        console().print(
            f"published {esc(output)} ({result.size} bytes): {_status(finding.status)} "
            f"{esc(finding.reason)}",
            soft_wrap=True,
        )
    if not result.finding.ok:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def heartbeat(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A declared output, metric or process."),
    start: bool = typer.Option(False, "--start", help="The job is starting."),
    fail: bool = typer.Option(False, "--fail", help="The job failed."),
    note: str | None = typer.Option(None, "--note", help="A word on what happened."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Report that a scheduled job started, succeeded (the default) or failed."""
    from orgplane.service.watch import heartbeat as record
    from orgplane.surfaces.cli.output import console, emit_json, esc

    result = record(ctx.obj, name, start=start, fail=fail, note=note)
    if as_json:
        emit_json(result)
    else:
        console().print(f"heartbeat {esc(result.name)}: {result.kind}")


@metric_app.command("push", context_settings={"ignore_unknown_options": True})  # -5 is a value
def metric_push(
    ctx: typer.Context,
    metric: str = typer.Argument(..., help="The metric id declared in org.yaml."),
    value: float = typer.Argument(..., help="The value, a number."),
    at: str | None = typer.Option(
        None, "--at", help="When it was measured, ISO 8601 with an offset (default: now)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Push one value of a scorecard metric."""
    from orgplane.service.watch import push_metric
    from orgplane.surfaces.cli.output import console, emit_json, esc

    result = push_metric(ctx.obj, metric, value, at=at)
    if as_json:
        emit_json(result)
    else:
        console().print(
            f"pushed {esc(result.metric)} = {result.value:g} at "
            f"{result.at.isoformat(timespec='seconds')}"
        )


@app.command()
def scorecard(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Each metric's value, target, owner, last clean push and stale mark. Exit 1 if any is stale."""
    from orgplane.service.watch import scorecard as read_scorecard
    from orgplane.surfaces.cli.output import emit_json

    card = read_scorecard(ctx.obj)
    if as_json:
        emit_json(card)
    else:
        render_scorecard(card)
    if not card.ok:
        raise typer.Exit(EXIT_FINDINGS)


def render_scorecard(card: Scorecard) -> None:
    """The scorecard as a table, then a line per stale metric."""
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    table = Table(pad_edge=False)
    for column in ("metric", "value", "target", "owner", "last clean push", "stale", "pushes"):
        table.add_column(column, overflow="fold")
    for row in card.metrics:
        unit = row.unit or ""
        value = "—" if row.value is None else f"{row.value:g}{unit}"
        target = ""
        if row.target is not None:
            sign = "≥" if row.direction == "at_least" else "≤"
            met = (
                ""
                if row.met is None
                else " [green]met[/green]"
                if row.met
                else " [red]missed[/red]"
            )
            target = f"{sign} {esc(f'{row.target:g}{unit}')}{met}"
        table.add_row(
            esc(row.metric),
            esc(value),
            target,
            esc(row.owner),
            _ago(row.last_clean_push, card.at),
            "[red]STALE[/red]" if row.stale else "",
            esc(row.summary or row.reason),
        )
    console().print(table)
    for row in card.metrics:
        if row.stale:
            console().print(
                f"[red]stale[/red] {esc(row.metric)}: {esc(row.reason)}", soft_wrap=True
            )
