"""Where a run is: the answers a person needs after a failure, in one read.

Records total; per stage done / failed / skipped / in doubt / held / running / pending; where
the batch stopped and why; when it started, last checkpointed and finished; which records wait
for a person; and the command that resumes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from orgplane.errors import NotFoundError
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints, run_records, runs

STAGE_STATES = ("done", "failed", "skipped", "in_doubt", "held", "running", "pending")


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
    """A run's progress. ``state``: running; failed (stopped by an error); held (only records
    waiting for a person are left); stopped (work left after a person released a record: resume
    it); finished."""

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
        """True when the run failed or a record waits for a person (exit code 1)."""
        return self.state == "failed" or bool(self.waiting)

    @property
    def resume_command(self) -> str:
        return f"orgplane run resume {self.run_id}"

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
    with store.read() as conn:
        run = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if run is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        counts = conn.execute(
            select(
                run_checkpoints.c.stage,
                run_checkpoints.c.status,
                func.count(),
                func.max(run_checkpoints.c.updated_at),
            )
            .where(run_checkpoints.c.run_id == run_id)
            .group_by(run_checkpoints.c.stage, run_checkpoints.c.status)
        ).all()
        last = max((row[3] for row in counts if row[3] is not None), default=None)
        has_waiting = any(row[1] in ("in_doubt", "held") for row in counts)
        waiting_rows = (
            []
            if not has_waiting
            else conn.execute(
                select(
                    run_records.c.key,
                    run_checkpoints.c.stage,
                    run_checkpoints.c.status,
                    run_checkpoints.c.idempotency_key,
                    run_checkpoints.c.error,
                )
                .join(
                    run_checkpoints,
                    (run_checkpoints.c.run_id == run_records.c.run_id)
                    & (run_checkpoints.c.seq == run_records.c.seq),
                )
                .where(
                    run_records.c.run_id == run_id,
                    run_checkpoints.c.status.in_(("in_doubt", "held")),
                )
                .order_by(run_records.c.seq)
            ).all()
        )
    by_stage: dict[str, dict[str, int]] = {}
    for stage, status, count, _ in counts:
        state = "running" if status == "started" else status
        if state not in STAGE_STATES:
            state = "pending"
        bucket = by_stage.setdefault(stage, {})
        bucket[state] = bucket.get(state, 0) + int(count)
    stages = []
    for declared in run.stages:
        bucket = by_stage.get(declared["name"], {})
        bucket["pending"] = run.records_total - sum(v for k, v in bucket.items() if k != "pending")
        stages.append(StageCounts(declared["name"], declared["kind"], **bucket))
    stopped = None
    if run.status == "failed" and run.error:
        stopped = {
            "record": run.stopped_record,
            "stage": run.stopped_stage,
            "error_type": run.error.get("type"),
            "code": run.error.get("code"),
            "message": run.error.get("message"),
            "summary": run.error.get("summary"),
            "traceback": run.error.get("traceback"),
        }
    waiting = [
        Waiting(
            record=row.key,
            stage=row.stage,
            state=row.status,
            idempotency_key=row.idempotency_key,
            message=(row.error or {}).get("handled_message") or (row.error or {}).get("message"),
        )
        for row in waiting_rows
    ]
    return RunStatus(
        run_id=run.id,
        process_id=run.process_id,
        batch=run.batch,
        state=run.status,
        records_total=run.records_total,
        stages=stages,
        started_at=run.created_at,
        last_checkpoint_at=last,
        finished_at=run.finished_at,
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
                s: states.get(r.id, {}).get(s, 0) for s in ("done", "skipped", "held", "active")
            },
            "started_at": r.created_at,
            "finished_at": r.finished_at,
            "stopped_at": {"record": r.stopped_record, "stage": r.stopped_stage}
            if r.status == "failed"
            else None,
        }
        for r in rows
    ]
