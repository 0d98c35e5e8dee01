"""Use cases of durable staged processes: run start / status / list / resume, and checkpoint.

Every rule the CLI used to apply lives here: a process with no ``module:`` only gets its run
stored (its agent records each stage with ``orgplane checkpoint``), the progress baseline of a
resume, the one-of ``--done`` / ``--failed`` / ``--redo`` rule, and the resume command shown to
a person.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from orgplane.errors import NotFoundError, UsageError
from orgplane.service.models import Result
from orgplane.service.permissions import require_own
from orgplane.service.progress import Progress
from orgplane.service.session import Session

if TYPE_CHECKING:
    from orgplane.runs.status import RunStatus

DEFAULT_LEASE_SECONDS = 60.0


class StageView(Result):
    """How many records are in each state at one stage."""

    kind: str
    done: int
    failed: int
    skipped: int
    in_doubt: int
    held: int
    handed_off: int
    running: int
    pending: int


class WaitingView(Result):
    """A record that waits for a person, and how to release it."""

    record: str
    stage: str
    state: Literal["in_doubt", "held"]
    idempotency_key: str
    message: str | None
    release: str


class StoppedView(Result):
    """Where a failed or paused run stopped and on what error."""

    record: str | None
    stage: str | None
    error_type: str | None
    code: str | None
    message: str | None
    summary: str | None
    traceback: str | None


class RunView(Result):
    """A run's progress (the ``run status --json`` shape). ``state``: running, failed, paused
    (a transient error outlasted its retries; ``stopped`` names the record), held, stopped or
    finished; ``needs_attention`` when it failed or paused or a record waits for a person."""

    run_id: str
    process_id: str
    batch: str
    state: str
    records_total: int
    stages: dict[str, StageView]
    started_at: datetime
    last_checkpoint_at: datetime | None
    finished_at: datetime | None
    stopped: StoppedView | None
    in_doubt: list[WaitingView]
    held: list[WaitingView]
    resume: str | None
    needs_attention: bool
    note: str | None = None


def _view(session: Session, status: RunStatus, note: str | None = None) -> RunView:

    def waiting(state: str) -> list[WaitingView]:
        return [
            WaitingView(
                record=w.record,
                stage=w.stage,
                state=w.state,
                idempotency_key=w.idempotency_key,
                message=w.message,
                release=session.command("checkpoint", status.run_id, w.record, w.stage)
                + " --done|--redo",
            )
            for w in status.waiting
            if w.state == state
        ]

    return RunView(
        run_id=status.run_id,
        process_id=status.process_id,
        batch=status.batch,
        state=status.state,
        records_total=status.records_total,
        stages={
            s.name: StageView(**{k: getattr(s, k) for k in StageView.model_fields})
            for s in status.stages
        },
        started_at=status.started_at,
        last_checkpoint_at=status.last_checkpoint_at,
        finished_at=status.finished_at,
        stopped=StoppedView(**status.stopped) if status.stopped else None,
        in_doubt=waiting("in_doubt"),
        held=waiting("held"),
        resume=None
        if status.state == "finished"
        else session.command("run", "resume", status.run_id),
        needs_attention=status.needs_attention,
        note=note,
    )


def start_run(
    session: Session,
    process_id: str,
    batch_file: str | Path,
    *,
    batch: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    progress: Progress | None = None,
    actor: str | None = None,
) -> RunView:
    """Run a batch through a process's stages (running the same batch again resumes it).

    A process without a ``module:`` only gets its run stored: its agent records checkpoints.
    NotFoundError for an undeclared process; InputFileError / UsageError for a bad batch file;
    PermissionDenied when ``actor`` is another seat than the process's.
    """
    from orgplane.runs import load_process, read_batch
    from orgplane.runs.process import start_run as store_run
    from orgplane.runs.process import stores_only
    from orgplane.runs.status import run_status as read_run

    org = session.org()
    if process_id not in org.processes:
        raise NotFoundError(
            f"no process {process_id!r} in {session.org_path}; "
            f"declared: {', '.join(sorted(org.processes)) or 'none'}",
            kind="process",
            name=process_id,
        )
    require_own(org, actor, org.processes[process_id].seat, f"process {process_id}")
    records = read_batch(batch_file)
    store = session.store()
    definition = org.processes[process_id]
    if stores_only(definition):
        run_id = store_run(store, definition, records, batch=batch)
        return _view(session, read_run(store, run_id), _agent_note(process_id))
    process = load_process(org, process_id, store, lease=_lease(lease_seconds))
    if progress is not None:
        progress.begin(process_id, len(records), 0)
    status = process.run(records, batch=batch, progress=progress.advance if progress else None)
    return _view(session, status)


def run_status(session: Session, run_id: str) -> RunView:
    """Where a run is: per stage counts, where it stopped and why, what waits for a person."""
    from orgplane.runs.status import run_status as read_run

    return _view(session, read_run(session.store(), run_id))


class RunSummary(Result):
    """One line of ``run list``: a run's state and its settled records."""

    run_id: str
    process_id: str
    batch: str
    state: str
    records_total: int
    records: dict[str, int]
    started_at: datetime
    finished_at: datetime | None
    stopped_at: dict[str, str | None] | None


class RunList(Result):
    """The most recent runs, newest first."""

    runs: list[RunSummary]


def list_runs(session: Session, *, process_id: str | None = None, limit: int = 50) -> RunList:
    """The most recent runs (at most ``limit``), newest first, optionally of one process."""
    from orgplane.runs.status import list_runs as read_runs

    return RunList(
        runs=[
            RunSummary(**r) for r in read_runs(session.store(), process_id=process_id, limit=limit)
        ]
    )


def resume_run(
    session: Session,
    run_id: str,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    progress: Progress | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> RunView:
    """Re-import the process's stage module and work what is left of the run (PermissionDenied
    when ``actor`` is another seat than the run's process's).

    A run stopped by an unhandled error that org.yaml still does not handle is refused
    (UsageError naming the error and the ways out) unless ``reason`` forces it: the reason is
    kept on the run (``forced_resumes``) and as a ``forced`` step on its open incident (its
    pending events are decided first, so the incident exists). A paused run continues from
    the record it paused at; a crashed one resumes as ever.

    A process with no ``module:`` has its run reopened for its agent instead. Several resumes
    of one run work it together. UsageError if the run's process is no longer declared.
    """
    from orgplane.runs import load_process
    from orgplane.runs.holds import Force, unclassified
    from orgplane.runs.process import reopen, stores_only
    from orgplane.runs.status import progress_baseline
    from orgplane.runs.status import run_status as read_run

    store = session.store()
    before = read_run(store, run_id)
    org = session.org()
    definition = org.processes.get(before.process_id)
    if definition is None:
        raise UsageError(
            f"run {run_id} is of process {before.process_id!r}, no longer in {session.org_path}"
        )
    require_own(org, actor, definition.seat, f"run {run_id}")
    force = None
    if reason is not None:
        if not reason.strip():
            raise UsageError("--reason needs a text: why the run is resumed before the fix")
        force = Force(reason.strip(), actor)
        if unclassified(before.state, _stored_error(session, run_id), definition):
            from orgplane.service.decisions import decide_pending

            decide_pending(session)  # the run's failure event becomes its incident
    if stores_only(definition):
        reopen(store, run_id, definition=definition, force=force)
        return _view(session, read_run(store, run_id), _agent_note(before.process_id))
    process = load_process(org, before.process_id, store, lease=_lease(lease_seconds))
    reopen(store, run_id, definition=definition, force=force)  # the hold: refused, or forced
    if progress is not None:
        progress.begin(f"resume {run_id}", before.records_total, progress_baseline(before))
    status = process.resume(run_id, progress=progress.advance if progress else None)
    return _view(session, status)


def _stored_error(session: Session, run_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from orgplane.store.tables import runs

    with session.store().read() as conn:
        error = conn.execute(select(runs.c.error).where(runs.c.id == run_id)).scalar()
    return error if isinstance(error, dict) else None


def checkpoint(
    session: Session,
    run_id: str,
    record: str,
    stage: str,
    *,
    done: bool = False,
    failed: str | None = None,
    redo: bool = False,
    output: str | None = None,
    message: str | None = None,
    handoff: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> RunView:
    """Record one stage of one record by hand, with the runner's semantics; the run afterwards.

    Exactly one of ``done``, ``failed`` (the error code), ``redo`` or ``handoff`` (the human
    seat the record goes to, with ``reason``); ``output`` (JSON text) only with ``done``.
    Handled errors apply to ``failed`` exactly as in the runner; a hand-off settles the record
    ``handed_off`` in that seat's queue (no failure event). PermissionDenied when ``actor`` is
    another seat than the run's process's.
    """
    from orgplane.runs import record_checkpoint
    from orgplane.runs.manual import checkpoint_action

    if actor is not None:
        _require_run_seat(session, run_id, actor)

    action = checkpoint_action(
        done=done,
        failed=failed,
        redo=redo,
        output_given=output is not None,
        handoff=handoff,
        reason_given=reason is not None,
    )
    status = record_checkpoint(
        session.store(),
        # only --failed (handled errors) and --handoff (its seat) need the org
        session.org() if action in ("failed", "handoff") else None,
        run_id,
        record,
        stage,
        action,
        output=_parse_output(output),
        code=failed,
        message=message,
        to=handoff,
        reason=reason,
        actor=actor,
    )
    return _view(session, status, f"recorded {record} / {stage}: {action}")


def _require_run_seat(session: Session, run_id: str, actor: str) -> None:
    from sqlalchemy import select

    from orgplane.service.permissions import process_seat
    from orgplane.store.tables import runs

    with session.store().read() as conn:
        process_id = conn.execute(select(runs.c.process_id).where(runs.c.id == run_id)).scalar()
    if process_id is None:
        raise NotFoundError(
            f"no run {run_id!r}; list them with 'orgplane run list'", kind="run", name=run_id
        )
    org = session.org()
    require_own(org, actor, process_seat(org, process_id), f"run {run_id}")


def _parse_output(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (
            f" ({exc.msg} at column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        )
        raise UsageError(f"--output is not JSON{where}; e.g. --output '{{\"id\": 1}}'") from None


def _lease(seconds: float) -> timedelta:
    if not seconds > 0 or seconds > 86_400 * 7:
        raise UsageError(f"--lease {seconds:g}: give seconds between 0.1 and 604800")
    return timedelta(seconds=seconds)


def _agent_note(process_id: str) -> str:
    return (
        f"{process_id} has no 'module:'; its agent continues the run and records each stage "
        "with 'orgplane checkpoint'"
    )
