"""Commands of silent-failure detection: ``check``, ``watch``, ``publish``, ``heartbeat``,
``metric push`` and ``scorecard``. Thin: every rule lives in :mod:`orgplane.watch`."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import typer
from rich.table import Table

from orgplane.errors import UsageError
from orgplane.org.durations import humanize_age, parse_duration
from orgplane.org.lookup import find_declared
from orgplane.store.types import utcnow
from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.output import console, emit_json
from orgplane.watch.check import check_once
from orgplane.watch.daemon import Watcher
from orgplane.watch.heartbeats import PingKind, record_heartbeat
from orgplane.watch.inspect import Finding
from orgplane.watch.metrics import push_metric
from orgplane.watch.metrics import scorecard as read_scorecard
from orgplane.watch.publish import publish as publish_content
from orgplane.watch.timestamps import parse_cli_time

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
_COLOURS = {"fresh": "green", "up": "green", "late": "yellow", "running": "cyan"}

metric_app = typer.Typer(help="Push scorecard metric values.", no_args_is_help=True)
app.add_typer(metric_app, name="metric")


@app.command()
def check(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """One pass over every output, schedule, metric and heartbeat. Exit 1 if anything is not fresh."""
    cli: CliContext = ctx.obj
    report = check_once(cli.store(), cli.org())
    if as_json:
        emit_json(report.as_dict())
    else:
        render_findings(report.findings, report.checked_at)
        bad = sum(1 for f in report.findings if not f.ok)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
        verdict = "[green]all fresh[/green]" if report.ok else f"[red]{bad} not fresh[/red]"
        console.print(f"{verdict} ({summary})")
    if not report.ok:
        raise typer.Exit(1)


def render_findings(findings: list[Finding], now: datetime) -> None:
    """The findings as a table a person reads top to bottom."""
    table = Table(show_lines=False, pad_edge=False)
    for column in ("status", "what", "seat", "last good", "why"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        colour = _COLOURS.get(finding.status, "red")
        table.add_row(
            f"[{colour}]{finding.status}[/{colour}]",
            f"{finding.subject_kind} {finding.subject_id}",
            finding.seat or "",
            _ago(finding.last_good_at, now, short=True),
            finding.reason,
        )
    console.print(table)


def _ago(moment: datetime | None, now: datetime, *, short: bool = False) -> str:
    if moment is None:
        return "never"
    if short:
        return f"{humanize_age(now - moment)} ago"
    return f"{moment.strftime('%Y-%m-%d %H:%M')} UTC ({humanize_age(now - moment)} ago)"


def _duration_option(text: str, option: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


@app.command()
def watch(
    ctx: typer.Context,
    interval: str = typer.Option("30s", "--interval", help="Time between passes, e.g. 30s, 5m."),
) -> None:
    """Run check passes until SIGTERM; record each transition once as a failure event."""
    cli: CliContext = ctx.obj
    every = _duration_option(interval, "--interval")
    cli.org()  # a missing or broken org file is bad input now, not a log line later
    Watcher(cli.org_path, cli.db, every).run()


@app.command()
def publish(
    ctx: typer.Context,
    output: str = typer.Argument(..., help="The output id declared in org.yaml."),
    file: Path | None = typer.Option(None, "--file", help="Read the content from F, not stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish an output's content through orgplane; prints its classification (exit 1 if bad)."""
    cli: CliContext = ctx.obj
    # Read one byte past the output's limit, so publish() can refuse it without us holding more.
    limit = find_declared(cli.org().outputs, "output", output).max_bytes + 1
    if file is not None:
        try:
            content = _read_limited(file.open("rb"), limit)
        except OSError as exc:
            raise UsageError(f"--file {file}: cannot read it: {exc.strerror or exc}") from None
    else:
        content = _read_limited(sys.stdin.buffer, limit)
    finding = publish_content(cli.store(), cli.org(), output, content, utcnow())
    if as_json:
        emit_json(finding.as_dict())
    else:
        colour = _COLOURS.get(finding.status, "red")
        console.print(
            f"published {output} ({len(content)} bytes): [{colour}]{finding.status}[/{colour}] {finding.reason}"
        )
    if not finding.ok:
        raise typer.Exit(1)


def _read_limited(stream: BinaryIO, limit: int) -> bytes:
    with stream:
        data: bytes = stream.read(limit)
    return data


@app.command()
def heartbeat(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A declared output, metric or process."),
    start: bool = typer.Option(False, "--start", help="The job is starting."),
    fail: bool = typer.Option(False, "--fail", help="The job failed."),
    note: str | None = typer.Option(None, "--note", help="A word on what happened."),
) -> None:
    """Report that a scheduled job started, succeeded (the default) or failed."""
    cli: CliContext = ctx.obj
    if start and fail:
        raise UsageError("--start and --fail exclude each other; give one (or neither for success)")
    kind: PingKind = "start" if start else "fail" if fail else "success"
    record_heartbeat(cli.store(), cli.org(), name, kind, utcnow(), note)
    console.print(f"heartbeat {name}: {kind}")


@metric_app.command("push")
def metric_push(
    ctx: typer.Context,
    metric: str = typer.Argument(..., help="The metric id declared in org.yaml."),
    value: float = typer.Argument(..., help="The value, a number."),
    at: str | None = typer.Option(
        None, "--at", help="When it was measured, ISO 8601 with an offset (default: now)."
    ),
) -> None:
    """Push one value of a scorecard metric."""
    cli: CliContext = ctx.obj
    now = utcnow()
    try:
        measured = parse_cli_time(at, now) if at is not None else now
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    push_metric(cli.store(), cli.org(), metric, value, measured, now)
    console.print(f"pushed {metric} = {value:g} at {measured.isoformat(timespec='seconds')}")


@app.command()
def scorecard(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Each metric's value, target, owner, last clean push and stale mark. Exit 1 if any is stale."""
    cli: CliContext = ctx.obj
    now = utcnow()
    rows = read_scorecard(cli.store(), cli.org(), now)
    stale = any(r["stale"] for r in rows)
    if as_json:
        emit_json({"ok": not stale, "at": now, "metrics": rows})
    else:
        _render_scorecard(rows, now)
    if stale:
        raise typer.Exit(1)


def _render_scorecard(rows: list[dict[str, Any]], now: datetime) -> None:
    table = Table(pad_edge=False)
    for column in ("metric", "value", "target", "owner", "last clean push", "stale", "pushes"):
        table.add_column(column, overflow="fold")
    for row in rows:
        unit = row["unit"] or ""
        value = "—" if row["value"] is None else f"{row['value']:g}{unit}"
        target = ""
        if row["target"] is not None:
            sign = "≥" if row["direction"] == "at_least" else "≤"
            met = {True: " [green]met[/green]", False: " [red]missed[/red]"}.get(row["met"], "")
            target = f"{sign} {row['target']:g}{unit}{met}"
        mark = "[red]STALE[/red]" if row["stale"] else ""
        table.add_row(
            row["metric"],
            value,
            target,
            row["owner"],
            _ago(row["last_clean_push"], now),
            mark,
            row["summary"] or row["reason"],
        )
    console.print(table)
    for row in rows:
        if row["stale"]:
            console.print(f"[red]stale[/red] {row['metric']}: {row['reason']}")
