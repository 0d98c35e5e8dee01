"""Commands of durable staged processes: ``run start|status|list|resume`` and ``checkpoint``.

Exit codes: 0 ok; 1 the run failed or a record waits for a person; 2 bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orgplane.errors import UsageError
from orgplane.runs import (
    RunStatus,
    list_runs,
    load_process,
    read_batch,
    record_checkpoint,
    run_status,
)
from orgplane.runs.manual import Action
from orgplane.runs.process import reopen, start_run
from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.context import CliContext
from orgplane.surfaces.cli.output import console, emit_json, err_console

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
LEASE_OPTION = typer.Option(
    60.0,
    "--lease",
    min=0.1,
    help="Seconds a worker may go silent before its records are taken over.",
)

run_app = typer.Typer(
    help="Durable staged processes: start a batch, see where it is, resume it.",
    no_args_is_help=True,
)
app.add_typer(run_app, name="run")


@contextmanager
def progress_bar(
    total: int, label: str, quiet: bool, completed: int = 0
) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar (on stderr) advanced by settled records; nothing when ``quiet``."""
    if quiet:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda settled: bar.advance(task, settled)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def resume_command(cli: CliContext, run_id: str) -> str:
    return f"orgplane --org {cli.org_path} run resume {run_id}"


def render_status(status: RunStatus, cli: CliContext) -> None:
    """The status of a run for a person: counts per stage, where it stopped, what waits."""
    colour = {"finished": "green", "failed": "red", "held": "yellow", "stopped": "yellow"}
    state = f"[{colour.get(status.state, 'cyan')}]{status.state}[/]"
    console.print(f"[bold]run {status.run_id}[/bold]  {state}")
    console.print(
        f"records {status.records_total} · started {_time(status.started_at)} · "
        f"last checkpoint {_time(status.last_checkpoint_at)} · finished {_time(status.finished_at)}"
    )
    table = Table(box=None, pad_edge=False)
    headers = [
        "stage",
        "kind",
        "done",
        "failed",
        "skipped",
        "in doubt",
        "held",
        "running",
        "pending",
    ]
    for header in headers:
        table.add_column(header, justify="left" if header in ("stage", "kind") else "right")
    for s in status.stages:
        table.add_row(
            s.name,
            s.kind,
            *(
                str(v)
                for v in (s.done, s.failed, s.skipped, s.in_doubt, s.held, s.running, s.pending)
            ),
        )
    console.print(table)
    if status.stopped:
        console.print(
            f"[red]stopped[/red] at record {status.stopped['record']}, stage {status.stopped['stage']}: "
            f"{status.stopped['summary'] or status.stopped['message']}",
            soft_wrap=True,
        )
    for waiting in status.waiting:
        what = "in doubt" if waiting.state == "in_doubt" else "held"
        console.print(
            f"[yellow]{what}[/yellow]: record {waiting.record} at {waiting.stage} "
            f"(idempotency key {waiting.idempotency_key}); release it with "
            f"'orgplane checkpoint {status.run_id} {waiting.record} {waiting.stage} --done|--redo'",
            soft_wrap=True,
        )
    if status.state != "finished":
        console.print(f"resume: [bold]{resume_command(cli, status.run_id)}[/bold]", soft_wrap=True)


def _finish(status: RunStatus, cli: CliContext, as_json: bool) -> None:
    if as_json:
        data = status.as_dict()
        if data["resume"]:
            data["resume"] = resume_command(cli, status.run_id)
        emit_json(data)
    else:
        render_status(status, cli)
    if status.needs_attention:
        raise typer.Exit(1)


@run_app.command("start")
def start(
    ctx: typer.Context,
    process_id: str = typer.Argument(..., metavar="PROCESS", help="A process id from org.yaml."),
    batch_file: Path = typer.Argument(..., metavar="BATCH_FILE", help=".json list, .jsonl or .csv"),
    batch: str | None = typer.Option(None, "--batch", help="Batch id [default: today's UTC date]."),
    lease: float = LEASE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a batch through a process's stages; running the same batch again resumes it.

    A process without a 'module:' only gets its run stored: its agent records checkpoints with
    'orgplane checkpoint'.
    """
    cli: CliContext = ctx.obj
    org = cli.org()
    if process_id not in org.processes:
        raise UsageError(
            f"no process {process_id!r} in {cli.org_path}; declared: {', '.join(sorted(org.processes))}"
        )
    records = read_batch(batch_file)
    store = cli.store()
    if org.processes[process_id].module is None:
        run_id = start_run(store, org.processes[process_id], records, batch=batch)
        _finish(run_status(store, run_id), cli, as_json)
        return
    process = load_process(org, process_id, store, lease=timedelta(seconds=lease))
    with progress_bar(len(records), process_id, as_json) as progress:
        status = process.run(records, batch=batch, progress=progress)
    _finish(status, cli, as_json)


@run_app.command("status")
def status(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (see 'orgplane run list')."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Where a run is: per stage done/failed/skipped/in doubt/pending, where it stopped, why."""
    cli: CliContext = ctx.obj
    _finish(run_status(cli.store(), run_id), cli, as_json)


@run_app.command("list")
def list_(
    ctx: typer.Context,
    process_id: str | None = typer.Option(None, "--process", help="Only runs of this process."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The most recent runs, newest first."""
    cli: CliContext = ctx.obj
    runs = list_runs(cli.store(), process_id=process_id)
    if as_json:
        emit_json(runs)
        return
    if not runs:
        console.print("no runs yet; start one with 'orgplane run start PROCESS BATCH_FILE'")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("records", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("stopped at", overflow="fold")
    for r in runs:
        stopped = r["stopped_at"]
        counts = r["records"]
        progress = f"{counts['done']}/{r['records_total']} done"
        for key, label in (("skipped", "skipped"), ("held", "held"), ("active", "left")):
            if counts[key]:
                progress += f", {counts[key]} {label}"
        table.add_row(
            r["run_id"],
            r["state"],
            progress,
            r["started_at"].strftime("%m-%d %H:%M"),
            f"{stopped['record']} / {stopped['stage']}" if stopped else "",
        )
    console.print(table)


@run_app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN"),
    lease: float = LEASE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-import the process's stage module and work what is left of the run.

    Several 'resume' commands on one run (on one machine with SQLite, many with PostgreSQL)
    work it together.
    """
    cli: CliContext = ctx.obj
    store = cli.store()
    before = run_status(store, run_id)
    org = cli.org()
    definition = org.processes.get(before.process_id)
    if definition is None:
        raise UsageError(
            f"run {run_id} is of process {before.process_id!r}, no longer in {cli.org_path}"
        )
    if definition.module is None:
        reopen(store, run_id)
        if not as_json:
            console.print(
                f"{before.process_id} has no 'module:'; its agent continues the run and records "
                "each stage with 'orgplane checkpoint'"
            )
        _finish(run_status(store, run_id), cli, as_json)
        return
    process = load_process(org, before.process_id, store, lease=timedelta(seconds=lease))
    settled = before.stages[-1].done + before.stages[-1].skipped + len(before.waiting)
    with progress_bar(before.records_total, f"resume {run_id}", as_json, settled) as progress:
        status_after = process.resume(run_id, progress=progress)
    _finish(status_after, cli, as_json)


def _parse_output(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--output is not JSON ({exc.msg} at column {exc.colno}); e.g. --output '{{\"id\": 1}}'"
        ) from None


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN"),
    record: str = typer.Argument(..., metavar="RECORD", help="The record's id, else its position."),
    stage: str = typer.Argument(..., metavar="STAGE"),
    done: bool = typer.Option(False, "--done", help="The stage is done (or: it did happen)."),
    failed: str | None = typer.Option(
        None, "--failed", metavar="CODE", help="The stage failed with CODE."
    ),
    redo: bool = typer.Option(False, "--redo", help="Release a held stage to run again on resume."),
    output: str | None = typer.Option(None, "--output", metavar="JSON", help="The stage's output."),
    message: str | None = typer.Option(None, "--message", help="What went wrong, with --failed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a stage of a record by hand: agents that are not Python, and people releasing a
    record held in doubt. Handled errors apply to --failed exactly as in the runner."""
    cli: CliContext = ctx.obj
    chosen = [
        name
        for name, on in (("--done", done), ("--failed", failed is not None), ("--redo", redo))
        if on
    ]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --done, --failed CODE or --redo")
    if output is not None and not done:
        raise UsageError("--output goes with --done")
    action: Action = "done" if done else "redo" if redo else "failed"
    status_after = record_checkpoint(
        cli.store(),
        cli.org(),
        run_id,
        record,
        stage,
        action,
        output=_parse_output(output),
        code=failed,
        message=message,
    )
    if not as_json:
        console.print(f"recorded {record} / {stage}: {chosen[0].lstrip('-')}")
    _finish(status_after, cli, as_json)
