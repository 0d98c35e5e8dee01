"""Checkpoints recorded by hand: agents that are not Python (a shell script, a scheduled LLM
session) and people releasing a held record, with the same semantics as the runner.

``orgplane checkpoint RUN RECORD STAGE --done [--output JSON]`` records a stage as done (for a
held record: "I checked, the effect happened"); ``--redo`` releases a held record so the stage
runs again on resume ("it did not happen"); ``--failed CODE`` applies the process's handled
errors exactly as the runner would (the same :func:`orgplane.runs.policy.decide`, counting the
same stored attempts). The record is locked for the transaction (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's write transaction excludes every other writer), so two checkpoints of one
record, or a checkpoint and a worker's claim, take turns instead of losing an update.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, func, insert, select, update

from orgplane.errors import NotFoundError, UsageError
from orgplane.org.models import Org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.runs.handoffs import (
    FAILURE_STATES,
    check_target,
    handoff_error,
    handoff_row,
    insert_handoffs,
)
from orgplane.runs.policy import Decision, Failure, decide, failure_names
from orgplane.runs.registry import idempotency_key
from orgplane.runs.statements import Checkpoint, RecordState, RunState, json_or_null
from orgplane.runs.status import RunStatus, next_run_state, run_status
from orgplane.store.engine import Store
from orgplane.store.tables import manual_checkpoints, run_checkpoints, run_records, runs
from orgplane.store.types import utcnow
from orgplane.store.upsert import dialect_insert

Action = Literal["done", "redo", "failed", "handoff"]


def checkpoint_action(
    *,
    done: bool,
    failed: str | None,
    redo: bool,
    output_given: bool = False,
    handoff: str | None = None,
    reason_given: bool = False,
) -> Action:
    """The action ``orgplane checkpoint``'s flags ask for: exactly one of ``--done``,
    ``--failed CODE``, ``--redo`` and ``--handoff SEAT``; ``--output`` only with ``--done``,
    ``--reason`` only (and always) with ``--handoff``; else UsageError."""
    flags = (
        ("done", done),
        ("failed", failed is not None),
        ("redo", redo),
        ("handoff", handoff is not None),
    )
    chosen = [name for name, on in flags if on]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --done, --failed CODE, --redo or --handoff SEAT")
    if output_given and not done:
        raise UsageError("--output goes with --done")
    if failed is not None and not failed.strip():
        raise UsageError("--failed needs the error code, e.g. --failed LM-500")
    if handoff is not None and not reason_given:
        raise UsageError("--handoff needs --reason TEXT: why this record needs a person")
    if reason_given and handoff is None:
        raise UsageError("--reason goes with --handoff SEAT")
    action: Action = "done" if done else "redo" if redo else "failed" if failed else "handoff"
    return action


def record_checkpoint(
    store: Store,
    org: Org | None,
    run_id: str,
    record_key: str,
    stage: str,
    action: Action,
    *,
    output: Any = None,
    code: str | None = None,
    message: str | None = None,
    to: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> RunStatus:
    """Record ``action`` for (record, stage) of ``run_id`` in one transaction; the new status.

    Refuses (UsageError, nothing written) a stage whose earlier stages are not done, a record
    another worker holds a live lease on, and a ``--done`` that contradicts a stored output.
    ``org`` (its handled errors, its seats) is needed only for ``failed`` and ``handoff``
    (``to`` must be an active human seat, ``reason`` given): a caller may skip loading it.
    Every checkpoint is logged in ``manual_checkpoints`` with the run's state then and whether
    it was made after a failure (the run failed or held, or this stage failed, held or in
    doubt), for the delegation ledger; ``actor`` is who made it (None: the local operator).
    """
    now = utcnow()
    with store.write() as conn:
        run = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if run is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        names = [s["name"] for s in run.stages]
        if stage not in names:
            raise UsageError(f"run {run_id} has no stage {stage!r}; its stages: {', '.join(names)}")
        record = conn.execute(
            select(run_records)
            .where(run_records.c.run_id == run_id, run_records.c.key == record_key)
            .with_for_update()  # PostgreSQL only: SQLAlchemy leaves it out on SQLite
        ).first()
        if record is None:
            raise NotFoundError(
                f"run {run_id} has no record {record_key!r}; records are named by their id, "
                "else their position in the batch"
            )
        if record.lease_owner and record.lease_until and record.lease_until > now:
            raise UsageError(
                f"record {record_key} is being worked by {record.lease_owner} until "
                f"{record.lease_until:%H:%M:%S} UTC; wait for it"
            )
        rows = {
            r.stage: r
            for r in conn.execute(
                select(run_checkpoints).where(
                    run_checkpoints.c.run_id == run_id, run_checkpoints.c.seq == record.seq
                )
            )
        }
        index = names.index(stage)
        early = [n for n in names[:index] if n not in rows or rows[n].status != Checkpoint.DONE]
        if early:
            raise UsageError(
                f"record {record_key}: stage {early[0]!r} is not done yet; checkpoint it first"
            )
        current = rows.get(stage)
        if record.state == RecordState.HANDED_OFF:
            raise UsageError(
                f"record {record_key} of run {run_id} is handed off to a person; it comes back "
                "when they resolve it ('orgplane queue', then 'orgplane queue resolve ID')"
            )
        settled = (RecordState.DONE, RecordState.SKIPPED)
        if record.state in settled and not (action == "done" and current is not None):
            raise UsageError(f"record {record_key} is already {record.state} in run {run_id}")
        state = current.status if current is not None else Checkpoint.PENDING
        values: dict[str, Any] = {
            "run_id": run_id,
            "seq": record.seq,
            "stage": stage,
            "idempotency_key": idempotency_key(run_id, record_key, stage),
            "attempts": current.attempts if current is not None else 0,
            "worker": "checkpoint",
            "reconciled": current.reconciled if current is not None else None,
            "updated_at": now,
            "error": json_or_null(None),
        }
        writer = _Writer(conn, run, record, names, values, now)
        after_failure = run.status in FAILURE_STATES or state in (
            Checkpoint.FAILED,
            Checkpoint.HELD,
            Checkpoint.IN_DOUBT,
        )
        if action == "handoff":
            if org is None or to is None or reason is None:
                raise ValueError("record_checkpoint(..., 'handoff') needs the org, to and reason")
            check_target(org, to, reason)
            if state == Checkpoint.DONE:
                raise UsageError(f"record {record_key}: stage {stage} is done; nothing to hand off")
            error = handoff_error(to, reason)
            writer.write(Checkpoint.HANDED_OFF, record_state=RecordState.HANDED_OFF, error=error)
            for later in names[index + 1 :]:  # the person has the rest of it (until returned)
                writer.values.update(
                    stage=later,
                    attempts=0,
                    idempotency_key=idempotency_key(run_id, record_key, later),
                )
                writer.write(Checkpoint.HANDED_OFF, error=error)
            row = handoff_row(
                run_id=run_id,
                record_key=record_key,
                stage=stage,
                process_id=run.process_id,
                from_seat=actor or run.seat_id,
                to=to,
                reason=reason,
                during_failure=after_failure,
                now=now,
            )
            insert_handoffs(conn, [row])
        elif action == "done":
            if state == Checkpoint.DONE:
                if current is not None and current.output != output:
                    raise UsageError(
                        f"record {record_key}: stage {stage} is already done with another output"
                    )
                return _status_after(store, run_id)
            if state in (Checkpoint.IN_DOUBT, Checkpoint.HELD):
                values["reconciled"] = "person"
            writer.done(output, last=index == len(names) - 1)
        elif action == "redo":
            if state not in (Checkpoint.IN_DOUBT, Checkpoint.HELD, Checkpoint.FAILED):
                raise UsageError(
                    f"record {record_key}: stage {stage} is {state}; --redo is for a stage in "
                    "doubt, held or failed"
                )
            values["reconciled"] = "redo"
            writer.write(Checkpoint.PENDING, record_state=RecordState.ACTIVE)
        else:
            if not code:
                raise UsageError("--failed needs the error code, e.g. --failed LM-500")
            if org is None:
                raise ValueError("record_checkpoint(..., 'failed') needs the org")
            writer.failed(org, Failure.from_code(code, message), index)
        conn.execute(
            insert(manual_checkpoints).values(
                run_id=run_id,
                record_key=record_key,
                stage=stage,
                action=action,
                run_status=run.status,
                during_failure=after_failure,
                actor=actor,
                created_at=now,
            )
        )
        writer.settle_run()
    return _status_after(store, run_id)


def _status_after(store: Store, run_id: str) -> RunStatus:
    return run_status(store, run_id)


class _Writer:
    """The writes of one manual checkpoint, inside the caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        run: Any,
        record: Any,
        names: list[str],
        values: dict[str, Any],
        now: Any,
    ) -> None:
        self.conn, self.run, self.record, self.names, self.values, self.now = (
            conn,
            run,
            record,
            names,
            values,
            now,
        )

    def write(self, status: str, *, record_state: str | None = None, **extra: Any) -> None:
        row = {**self.values, "status": status, **extra}
        statement = dialect_insert(self.conn, run_checkpoints).values(**row)
        keep = {k: statement.excluded[k] for k in row if k not in ("run_id", "seq", "stage")}
        self.conn.execute(
            statement.on_conflict_do_update(index_elements=["run_id", "seq", "stage"], set_=keep)
        )
        if record_state is not None:
            self.conn.execute(
                update(run_records)
                .where(run_records.c.run_id == self.run.id, run_records.c.seq == self.record.seq)
                .values(state=record_state, lease_owner=None, lease_until=None)
            )

    def done(self, output: Any, *, last: bool) -> None:
        # A stage's output None is the JSON null the runner stores for it: an output.
        state = RecordState.DONE if last else RecordState.ACTIVE
        self.write(Checkpoint.DONE, record_state=state, output=output)

    def failed(self, org: Org, failure: Failure, index: int) -> None:
        process = org.processes.get(self.run.process_id)
        attempts = self.values["attempts"] + 1
        self.values["attempts"] = attempts
        if process is None:  # the process left org.yaml: nothing is handled
            decision = Decision("fail", None)
        else:
            decision = decide(process, failure_names(failure), attempts)
        handled = decision.handled
        error = failure.as_dict(handled)
        if decision.action == "retry":  # the agent tries again; the run goes on
            self.write(Checkpoint.FAILED, error=error)
            return
        if decision.action == "skip":
            self.write(Checkpoint.SKIPPED, record_state=RecordState.SKIPPED, error=error)
            for later in self.names[index + 1 :]:
                self.values.update(
                    stage=later,
                    attempts=0,
                    idempotency_key=idempotency_key(self.run.id, self.record.key, later),
                )
                self.write(Checkpoint.SKIPPED, error=error)
            return
        stage = self.values["stage"]
        message = decision.message(failure, self.run.process_id, self.record.key, stage)
        if decision.action == "hold":
            self.write(Checkpoint.HELD, record_state=RecordState.HELD, error=error)
            self._event(decision, message, failure)
            return
        error = {**error, "summary": message}
        paused = decision.action == "pause"
        if paused:  # a transient error: released to run again, with its retries afresh
            self.values["attempts"] = 0
            error["attempts"] = attempts
        self.write(Checkpoint.PENDING if paused else Checkpoint.FAILED, error=error)
        self.conn.execute(
            update(runs)
            .where(runs.c.id == self.run.id)
            .values(
                status=(RunState.PAUSED if paused else RunState.FAILED).value,
                stopped_record=self.record.key,
                stopped_stage=stage,
                error=error,
            )
        )
        self._event(decision, message, failure)

    def _event(self, decision: Decision, message: str, failure: Failure) -> None:
        record_event(
            self.conn,
            FailureEvent(
                kind=decision.event_kind,
                occurred_at=self.now,
                subject_kind="run",
                subject_id=self.run.id,
                seat_id=self.run.seat_id,
                run_id=self.run.id,
                record_key=self.record.key,
                stage=self.values["stage"],
                visible=True,
                message=message,
                details=failure.as_dict(decision.handled),
            ),
        )

    def settle_run(self) -> None:
        """After a manual checkpoint: finish the run if nothing is left, else say work is left."""
        status = self.conn.execute(
            select(runs.c.status).where(runs.c.id == self.run.id)
        ).scalar_one()
        counts: dict[str, int] = dict(
            self.conn.execute(
                select(run_records.c.state, func.count())
                .where(run_records.c.run_id == self.run.id)
                .group_by(run_records.c.state)
            ).all()
        )
        new = next_run_state(
            status, counts.get(RecordState.ACTIVE, 0), counts.get(RecordState.HELD, 0)
        )
        if new is None:
            return
        finished = new == RunState.FINISHED
        values = {"status": new.value, "finished_at": self.now if finished else None}
        self.conn.execute(update(runs).where(runs.c.id == self.run.id).values(**values))
