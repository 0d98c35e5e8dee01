"""Commands of durable staged processes: ``run start|status|list|resume`` and ``checkpoint``.

Exit codes: 0 ok; 1 the run failed or a record waits for a person; 2 bad input.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orgplane.surfaces.cli import app
from orgplane.surfaces.cli.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from orgplane.service.runs import RunList, RunView

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
LEASE_OPTION = typer.Option(
    60.0,
    "--lease",
    min=0.1,
    max=604800.0,
    help="Seconds a worker may go silent before its records are taken over.",
)

run_app = typer.Typer(
    help="Durable staged processes: start a batch, see where it is, resume it.",
    no_args_is_help=True,
)
app.add_typer(run_app, name="run")


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def render_status(view: RunView) -> None:
    """The status of a run for a person: counts per stage, where it stopped, what waits."""
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    out = console()
    colour = {
        "finished": "green",
        "failed": "red",
        "paused": "yellow",
        "held": "yellow",
        "stopped": "yellow",
    }
    state = f"[{colour.get(view.state, 'cyan')}]{esc(view.state)}[/]"
    out.print(f"[bold]run {esc(view.run_id)}[/bold]  {state}")
    out.print(
        f"records {view.records_total} · started {_time(view.started_at)} · "
        f"last checkpoint {_time(view.last_checkpoint_at)} · finished {_time(view.finished_at)}"
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
        "handed off",
        "running",
        "pending",
    ]
    for header in headers:
        table.add_column(header, justify="left" if header in ("stage", "kind") else "right")
    for name, s in view.stages.items():
        counts = (
            s.done,
            s.failed,
            s.skipped,
            s.in_doubt,
            s.held,
            s.handed_off,
            s.running,
            s.pending,
        )
        table.add_row(esc(name), esc(s.kind), *(str(v) for v in counts))
    out.print(table)
    if view.stopped:
        stopped = view.stopped
        how = "[yellow]paused[/yellow]" if view.state == "paused" else "[red]stopped[/red]"
        out.print(
            f"{how} at record {esc(stopped.record)}, stage {esc(stopped.stage)}: "
            f"{esc(stopped.summary or stopped.message)}",
            soft_wrap=True,
        )
    for waiting in [*view.in_doubt, *view.held]:
        what = "in doubt" if waiting.state == "in_doubt" else "held"
        out.print(
            f"[yellow]{what}[/yellow]: record {esc(waiting.record)} at {esc(waiting.stage)} "
            f"(idempotency key {esc(waiting.idempotency_key)}); release it with "
            f"'{esc(waiting.release)}'",
            soft_wrap=True,
        )
    if view.resume:
        out.print(f"resume: [bold]{esc(view.resume)}[/bold]", soft_wrap=True)


def _finish(view: RunView, as_json: bool) -> None:
    from orgplane.surfaces.cli.output import console, emit_json, esc

    if as_json:
        emit_json(view)
    else:
        if view.note:
            console().print(esc(view.note), soft_wrap=True)
        render_status(view)
    if view.needs_attention:
        raise typer.Exit(EXIT_FINDINGS)


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
    from orgplane.service.runs import start_run
    from orgplane.surfaces.cli.output import progress_bar

    with progress_bar(as_json) as progress:
        view = start_run(
            ctx.obj, process_id, batch_file, batch=batch, lease_seconds=lease, progress=progress
        )
    _finish(view, as_json)


@run_app.command("status")
def status(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (see 'orgplane run list')."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Where a run is: per stage done/failed/skipped/in doubt/pending, where it stopped, why."""
    from orgplane.service.runs import run_status

    _finish(run_status(ctx.obj, run_id), as_json)


@run_app.command("list")
def list_(
    ctx: typer.Context,
    process_id: str | None = typer.Option(None, "--process", help="Only runs of this process."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The most recent runs, newest first."""
    from orgplane.service.runs import list_runs
    from orgplane.surfaces.cli.output import emit_json

    found = list_runs(ctx.obj, process_id=process_id, limit=limit)
    if as_json:
        emit_json(found)
    else:
        _render_runs(found)


def _render_runs(found: RunList) -> None:
    from rich.table import Table

    from orgplane.surfaces.cli.output import console, esc

    if not found.runs:
        console().print("no runs yet; start one with 'orgplane run start PROCESS BATCH_FILE'")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("records", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("stopped at", overflow="fold")
    for r in found.runs:
        counts = r.records
        progress = f"{counts['done']}/{r.records_total} done"
        labels = (
            ("skipped", "skipped"),
            ("held", "held"),
            ("handed_off", "handed off"),
            ("active", "left"),
        )
        for key, label in labels:
            if counts.get(key):
                progress += f", {counts[key]} {label}"
        stopped = r.stopped_at
        table.add_row(
            esc(r.run_id),
            esc(r.state),
            progress,
            r.started_at.strftime("%m-%d %H:%M"),
            esc(f"{stopped['record']} / {stopped['stage']}") if stopped else "",
        )
    console().print(table)


@run_app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN"),
    lease: float = LEASE_OPTION,
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="Resume a run held by an unhandled error before it is classified; kept on its "
        "incident.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-import the process's stage module and work what is left of the run.

    A paused run continues from the record it paused at. A run stopped by an unhandled error is
    refused until the error is in the process's handled_errors, or '--reason' forces it.
    Several 'resume' commands on one run (on one machine with SQLite, many with PostgreSQL)
    work it together.
    """
    from orgplane.service.runs import resume_run
    from orgplane.surfaces.cli.output import progress_bar

    with progress_bar(as_json) as progress:
        view = resume_run(ctx.obj, run_id, lease_seconds=lease, progress=progress, reason=reason)
    _finish(view, as_json)


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
    handoff: str | None = typer.Option(
        None, "--handoff", metavar="SEAT", help="Hand the record to this human seat's queue."
    ),
    reason: str | None = typer.Option(
        None, "--reason", metavar="TEXT", help="Why the record needs a person, with --handoff."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a stage of a record by hand: agents that are not Python, and people releasing a
    record held in doubt. Handled errors apply to --failed exactly as in the runner; --handoff
    gives the record to a person (not a failure)."""
    from orgplane.service.runs import checkpoint as record_checkpoint

    view = record_checkpoint(
        ctx.obj,
        run_id,
        record,
        stage,
        done=done,
        failed=failed,
        redo=redo,
        output=output,
        message=message,
        handoff=handoff,
        reason=reason,
    )
    _finish(view, as_json)
