"""Use case: what is left of a run for its agent, record by record, with the next stage of each.

A process with no ``module:`` is worked by its agent through checkpoints alone (a shell script,
a scheduled LLM session over MCP). After a cut-off, the agent asks this which records are not
settled and which stage each needs next, so it resumes where the stored checkpoints say and
redoes nothing (``run status`` gives the counts; this gives the records).
"""

from __future__ import annotations

from typing import Any, Literal

from orgplane.errors import NotFoundError
from orgplane.service.models import Result
from orgplane.service.session import Session


class PendingRecord(Result):
    """A record of the run not yet settled (done, skipped or handed off), and what it needs
    next."""

    record: str
    seq: int
    input: Any
    """The record as the batch gave it."""
    next_stage: str | None
    """The first stage not done; None when the record waits for a person (held, in doubt)."""
    stage_states: dict[str, str]
    """The state of each stage recorded so far (``pending`` where nothing is recorded)."""
    waiting: Literal["held", "in_doubt"] | None


class RunWork(Result):
    """What is left of ``run_id``: unsettled records in batch order (at most ``limit``)."""

    run_id: str
    process_id: str
    state: str
    stages: list[str]
    settled: int
    """Records done, skipped or handed off to a person."""
    left: int
    """Records not settled, all of them (``records`` holds at most ``limit``)."""
    records: list[PendingRecord]


def run_work(session: Session, run_id: str, *, limit: int = 50) -> RunWork:
    """The unsettled records of ``run_id`` in batch order with the next stage each needs;
    reads only. NotFoundError for an unknown run."""
    from sqlalchemy import func, select

    from orgplane.runs.statements import Checkpoint, RecordState
    from orgplane.store.tables import run_checkpoints, run_records, runs

    # A handed-off record is a person's now: nothing is left of it for the agent.
    settled_states = (
        RecordState.DONE.value,
        RecordState.SKIPPED.value,
        RecordState.HANDED_OFF.value,
    )
    with session.store().read() as conn:
        run = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if run is None:
            raise NotFoundError(
                f"no run {run_id!r}; list them with '{session.command('run', 'list')}'",
                kind="run",
                name=run_id,
            )
        open_records = select(run_records).where(
            run_records.c.run_id == run_id, run_records.c.state.not_in(settled_states)
        )
        left = conn.execute(select(func.count()).select_from(open_records.subquery())).scalar_one()
        rows = conn.execute(open_records.order_by(run_records.c.seq).limit(limit)).all()
        seqs = [r.seq for r in rows]
        states: dict[int, dict[str, str]] = {}
        if seqs:
            for c in conn.execute(
                select(
                    run_checkpoints.c.seq, run_checkpoints.c.stage, run_checkpoints.c.status
                ).where(run_checkpoints.c.run_id == run_id, run_checkpoints.c.seq.in_(seqs))
            ):
                states.setdefault(c.seq, {})[c.stage] = c.status
    names = [s["name"] for s in run.stages]
    waiting_states = {Checkpoint.HELD.value: "held", Checkpoint.IN_DOUBT.value: "in_doubt"}
    records = []
    for row in rows:
        recorded = states.get(row.seq, {})
        stage_states = {n: recorded.get(n, Checkpoint.PENDING.value) for n in names}
        waiting = next(
            (waiting_states[s] for s in stage_states.values() if s in waiting_states), None
        )
        next_stage = next((n for n in names if stage_states[n] != Checkpoint.DONE.value), None)
        records.append(
            PendingRecord(
                record=row.key,
                seq=row.seq,
                input=row.input,
                next_stage=None if waiting else next_stage,
                stage_states=stage_states,
                waiting=waiting,
            )
        )
    return RunWork(
        run_id=run_id,
        process_id=run.process_id,
        state=run.status,
        stages=names,
        settled=run.records_total - left,
        left=left,
        records=records,
    )
