"""Where a run is: the answers a person needs after a failure, in one read.

Records total; per stage done / failed / skipped / in doubt / held / running / pending; where
the batch stopped and why; when it started, last checkpointed and finished; which records wait
for a person; and the command that resumes it.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from orgplane.errors import NotFoundError
from orgplane.runs.rawdb import RawDb
from orgplane.runs.registry import idempotency_key as derive_key
from orgplane.runs.statements import COUNTS, RUN, WAITING, Checkpoint, RunState
from orgplane.store.engine import Store
from orgplane.store.tables import run_records, runs

STAGE_STATES = (
    "done",
    "failed",
    "skipped",
    "in_doubt",
    "held",
    "handed_off",
    "running",
    "pending",
)


def resume_command(run_id: str, org_path: str | Path | None = None) -> str:
    """The one spelling of the command that resumes ``run_id``; with ``org_path``, it names
    the org file, so it works from any folder. Both are shell-quoted, as in every other
    command orgplane prints (``Session.command``), so a path with a space can be pasted."""
    org = f"--org {shlex.quote(str(org_path))} " if org_path is not None else ""
    return f"orgplane {org}run resume {shlex.quote(run_id)}"


def progress_baseline(status: RunStatus) -> int:
    """How many of a run's records a progress display counts as settled before a resume: done
    at the last stage, skipped, or waiting for a person. A record whose last stage is done but
    that a crash left unsettled counts here and again when the resumer settles it, so a display
    clamps at ``records_total``."""
    last = status.stages[-1]
    return min(status.records_total, last.done + last.skipped + len(status.waiting))


def next_run_state(current: str, active: int, held: int) -> RunState | None:
    """The finish-or-hold rule of a run, given its status and how many of its records are still
    active and held: ``None`` leaves the status as it is.

    A failed or paused run stays so (a resume reopens it); with no active record left the run is
    finished, or held when a record waits for a person; a held or finished run that has work
    again (a person released a record) is stopped: it waits for a resume."""
    if current in (RunState.FAILED, RunState.PAUSED):
        return None
    if active == 0:
        return RunState.HELD if held else RunState.FINISHED
    if current in (RunState.HELD, RunState.FINISHED):
        return RunState.STOPPED
    return None


@dataclass(frozen=True)
class StageCounts:
    """How many records are in each state at one stage."""

    name: str
    kind: str
    done: int = 0
    failed: int = 0
    skipped: int = 0
    in_doubt: int = 0
    held: int = 0
    handed_off: int = 0
    running: int = 0
    pending: int = 0


@dataclass(frozen=True)
class Waiting:
    """A record that waits for a person: in doubt after a crash, or held by an escalation."""

    record: str
    stage: str
    state: str
    idempotency_key: str
    message: str | None


@dataclass(frozen=True)
class RunStatus:
    """A run's progress. ``state``: running; failed (stopped by an error); paused (a transient
    error outlasted its retries: ``stopped`` names the record, a resume continues from it); held
    (only records waiting for a person are left); stopped (work left after a person released a
    record: resume it); finished."""

    run_id: str
    process_id: str
    batch: str
    state: str
    records_total: int
    stages: list[StageCounts]
    started_at: datetime
    last_checkpoint_at: datetime | None
    finished_at: datetime | None
    stopped: dict[str, Any] | None
    waiting: list[Waiting] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        """True when the run failed or paused, or a record waits for a person (exit code 1)."""
        return self.state in (RunState.FAILED, RunState.PAUSED) or bool(self.waiting)

    @property
    def resume_command(self) -> str:
        """The command that resumes this run (without ``--org``: see :func:`resume_command`)."""
        return resume_command(self.run_id)

    def stage(self, name: str) -> StageCounts:
        return next(s for s in self.stages if s.name == name)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``orgplane run status --json``."""
        data = asdict(self)
        data["stages"] = {
            s.name: {k: v for k, v in asdict(s).items() if k != "name"} for s in self.stages
        }
        data["in_doubt"] = [asdict(w) for w in self.waiting if w.state == "in_doubt"]
        data["held"] = [asdict(w) for w in self.waiting if w.state == "held"]
        del data["waiting"]
        data["resume"] = self.resume_command if self.state != "finished" else None
        return data


def run_status(store: Store, run_id: str) -> RunStatus:
    """The status of ``run_id`` as stored now; NotFoundError if there is no such run."""
    db = RawDb(store)
    try:
        return read_status(db, run_id)
    finally:
        db.close()


def read_status(db: RawDb, run_id: str) -> RunStatus:
    """:func:`run_status` on a worker's connection, in one read transaction (three queries at
    most, through the driver: a run's status is read at the end of every ``process.run``)."""
    with db.snapshot() as cursor:
        found = db.one(cursor, RUN, (run_id,)).fetchone()
        if found is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        counts = [
            (str(stage), str(status), int(count), db.ts_out(last))
            for stage, status, count, last in db.one(cursor, COUNTS, (run_id,)).fetchall()
        ]
        has_waiting = any(row[1] in (Checkpoint.IN_DOUBT, Checkpoint.HELD) for row in counts)
        waiting_rows = db.one(cursor, WAITING, (run_id,)).fetchall() if has_waiting else []
    (_, process_id, batch, run_state, stages_json, total, created, finished, *stopped_at, error) = (
        found
    )
    error = db.json_out(error)
    last = max((row[3] for row in counts if row[3] is not None), default=None)
    by_stage: dict[str, dict[str, int]] = {}
    for stage, status, count, _ in counts:
        state = "running" if status == Checkpoint.STARTED else status
        if state not in STAGE_STATES:
            state = "pending"
        bucket = by_stage.setdefault(stage, {})
        bucket[state] = bucket.get(state, 0) + int(count)
    stages = []
    for declared in db.json_out(stages_json):
        bucket = by_stage.get(declared["name"], {})
        bucket["pending"] = int(total) - sum(v for k, v in bucket.items() if k != "pending")
        stages.append(StageCounts(declared["name"], declared["kind"], **bucket))
    stopped = None
    if run_state in (RunState.FAILED, RunState.PAUSED) and error:
        stopped = {
            "record": stopped_at[0],
            "stage": stopped_at[1],
            "error_type": error.get("type"),
            "code": error.get("code"),
            "message": error.get("message"),
            "summary": error.get("summary"),
            "traceback": error.get("traceback"),
        }
    waiting = []
    for key, stage, status, stored_key, error in waiting_rows:
        details = db.json_out(error) or {}
        waiting.append(
            Waiting(
                record=str(key),
                stage=str(stage),
                state=str(status),
                idempotency_key=stored_key or derive_key(run_id, str(key), str(stage)),
                message=details.get("handled_message") or details.get("message"),
            )
        )
    return RunStatus(
        run_id=run_id,
        process_id=str(process_id),
        batch=str(batch),
        state=str(run_state),
        records_total=int(total),
        stages=stages,
        started_at=db.ts_out(created),  # type: ignore[arg-type]  # NOT NULL
        last_checkpoint_at=last,
        finished_at=db.ts_out(finished),
        stopped=stopped,
        waiting=waiting,
    )


def list_runs(
    store: Store, *, process_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The most recent runs, newest first, each with its state and counts of settled records."""
    with store.read() as conn:
        query = select(runs).order_by(runs.c.created_at.desc(), runs.c.id).limit(limit)
        if process_id:
            query = query.where(runs.c.process_id == process_id)
        rows = conn.execute(query).all()
        states: dict[str, dict[str, int]] = {}
        if rows:
            tallies = conn.execute(
                select(run_records.c.run_id, run_records.c.state, func.count())
                .where(run_records.c.run_id.in_([r.id for r in rows]))
                .group_by(run_records.c.run_id, run_records.c.state)
            ).all()
            for run_id, state, count in tallies:
                states.setdefault(run_id, {})[state] = int(count)
    return [
        {
            "run_id": r.id,
            "process_id": r.process_id,
            "batch": r.batch,
            "state": r.status,
            "records_total": r.records_total,
            "records": {
                s: states.get(r.id, {}).get(s, 0)
                for s in ("done", "skipped", "held", "handed_off", "active")
            },
            "started_at": r.created_at,
            "finished_at": r.finished_at,
            "stopped_at": {"record": r.stopped_record, "stage": r.stopped_stage}
            if r.status in (RunState.FAILED, RunState.PAUSED)
            else None,
        }
        for r in rows
    ]
