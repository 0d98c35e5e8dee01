"""What happens to a record when a stage does not simply succeed.

A handled error does what org.yaml says (skip the record, hold it for a person, fail the run,
or pause it when a transient error outlasted its retries);
an unhandled one stops the run with a failure record and an event; a stage left in doubt by a
crash is reconciled or held. Every path queues its rows and events on the worker's buffer, so
they commit together with the state change they describe, and changes the worker only through
its methods (``put``, ``settle``, ``stop_at``). What to do is :func:`orgplane.runs.policy.decide`'s
answer; this module only writes it down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orgplane.errors import UsageError
from orgplane.respond.events import EventKind, FailureEvent
from orgplane.runs.handoffs import HandOff, check_target, handoff_error, handoff_row
from orgplane.runs.policy import Decision, Failure
from orgplane.runs.records import decode, to_json
from orgplane.runs.registry import StageSpec
from orgplane.runs.statements import Checkpoint, RecordState, RunState
from orgplane.store.types import utcnow

if TYPE_CHECKING:
    from orgplane.runs.worker import Worker


@dataclass(slots=True)
class Item:
    """A claimed record while a worker holds it: its stored checkpoints and outputs so far."""

    seq: int
    key: str
    record: Any
    outputs: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, tuple[str, int, str | None]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    active: bool = True


def _event(
    worker: Worker,
    item: Item,
    stage: str,
    kind: EventKind,
    message: str,
    details: dict[str, Any],
) -> FailureEvent:
    return FailureEvent(
        kind=kind,
        occurred_at=utcnow(),
        subject_kind="run",
        subject_id=worker.run_id,
        seat_id=worker.process.definition.seat,
        run_id=worker.run_id,
        record_key=item.key,
        stage=stage,
        visible=True,
        message=message,
        details=details,
    )


def apply_decision(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    failure: Failure,
    decision: Decision,
) -> None:
    """Queue what ``decision`` (skip, hold or fail; a retry is the caller's loop) does to
    ``item`` at ``stage``."""
    if decision.action in ("fail", "retry"):
        stop_run(worker, item, index, stage, attempt, failure, decision)
        return
    if decision.action == "pause":
        pause_run(worker, item, index, stage, attempt, failure, decision)
        return
    handled = decision.handled
    error = to_json(failure.as_dict(handled), "error")
    if decision.action == "skip":
        _settle_from(worker, item, index, stage, attempt, error, Checkpoint.SKIPPED)
        return
    # hold: the record waits for a person; the rest of the batch goes on.
    assert handled is not None
    worker.put(item, stage, Checkpoint.HELD, error=error, attempts=attempt)
    worker.settle(item, RecordState.HELD)
    message = decision.message(failure, worker.process.definition.id, item.key, stage)
    details = {**failure.as_dict(handled), "escalate_to": handled.escalate_to}
    worker.buffer.event(_event(worker, item, stage, decision.event_kind, message, details))


def _settle_from(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    error: str,
    checkpoint: Checkpoint,
) -> None:
    """Mark ``stage`` and every later stage of ``item`` with ``checkpoint`` (skipped, handed
    off) and settle the record in the same state: nothing of it is left pending."""
    worker.put(item, stage, checkpoint, error=error, attempts=attempt)
    for later in worker.specs[index + 1 :]:
        worker.put(item, later.name, checkpoint, error=error, attempts=0)
    worker.settle(item, RecordState(checkpoint.value))


def hand_off(
    worker: Worker, item: Item, index: int, stage: str, attempt: int, given: HandOff
) -> None:
    """Queue ``item``'s hand-off at ``stage`` to a person: a ``handed_off`` checkpoint, the
    record settled, and its queue row, committed together; no failure event. A target that is
    not an active human seat stops the run (the stage's code is wrong), naming it."""
    org = worker.process.org
    try:
        check_target(org, given.to, given.reason)
    except UsageError as exc:
        failure = Failure("HandOffRefused", str(exc), None, None)
        stop_run(worker, item, index, stage, attempt, failure, Decision("fail", None))
        return
    error = to_json(handoff_error(given.to, given.reason), "error")
    # the person has the rest of it (until returned)
    _settle_from(worker, item, index, stage, attempt, error, Checkpoint.HANDED_OFF)
    definition = worker.process.definition
    row = handoff_row(
        run_id=worker.run_id,
        record_key=item.key,
        stage=stage,
        process_id=definition.id,
        from_seat=definition.seat,
        to=given.to,
        reason=given.reason,
        during_failure=False,  # a worker works only a running run
        now=utcnow(),
    )
    worker.buffer.handoff(row)


def stop_run(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    failure: Failure,
    decision: Decision,
) -> None:
    """Stop the run at (``item``, ``stage``): a failed checkpoint, the run's failure record and
    an event, committed together; the worker finishes what is in flight and claims nothing."""
    details = failure.as_dict(decision.handled)
    message = decision.message(failure, worker.process.definition.id, item.key, stage)
    details["summary"] = message
    if failure.names:  # what a handled error declared later may match (runs.holds)
        details["names"] = list(failure.names)
    error = to_json(details, "error")
    worker.put(item, stage, Checkpoint.FAILED, error=error, attempts=attempt)
    worker.buffer.fail_run(item.key, stage, error, RunState.FAILED)
    kind: EventKind = decision.event_kind
    worker.buffer.event(_event(worker, item, stage, kind, message, details))
    worker.stop_at(index)


def pause_run(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    failure: Failure,
    decision: Decision,
) -> None:
    """Pause the run at (``item``, ``stage``): a transient error outlasted its retries. The
    record's stage is left pending (released to run again, its attempts back at zero so a resume
    gets the declared retries afresh), the run is ``paused`` with the record and the error named,
    and one ``paused`` event is queued, committed together. Records already past this stage go
    on to the end of the chunk; nothing new is started."""
    details = failure.as_dict(decision.handled)
    message = decision.message(failure, worker.process.definition.id, item.key, stage)
    details["summary"] = message
    details["attempts"] = attempt
    error = to_json(details, "error")
    worker.put(item, stage, Checkpoint.PENDING, error=error, attempts=0)
    worker.buffer.fail_run(item.key, stage, error, RunState.PAUSED)
    event = _event(worker, item, stage, "paused", message, details)
    worker.buffer.event(event)
    worker.stop_at(index)


def resolve_in_doubt(worker: Worker, item: Item, index: int, spec: StageSpec) -> None:
    """An effectful stage started but never recorded an end: ask its reconcile, else hold it."""
    key_ctx = worker.context(item, spec.name, item.rows[spec.name][1])
    verdict: Any = None
    problem = None
    if spec.reconcile is not None:
        try:
            verdict = spec.reconcile(worker.input_of(item, index), key_ctx)
            if verdict is not None and verdict is not False:
                text = to_json(verdict, f"reconcile of stage {spec.name!r} for record {item.key}")
                worker.put(item, spec.name, Checkpoint.DONE, output=text, reconciled="done")
                item.outputs[spec.name] = decode(text)
                if index == len(worker.specs) - 1:
                    worker.settle(item, RecordState.DONE)
                return
            # The effect did not happen: the stage runs again, with the same idempotency key.
            worker.put(item, spec.name, Checkpoint.PENDING, reconciled="not_done")
            return
        except Exception as exc:  # a reconcile that cannot tell leaves it to a person
            problem = Failure.from_exception(exc).summary()
    reason = (
        f"its reconcile failed ({problem})"
        if problem
        else f"stage {spec.name!r} declares no reconcile function"
    )
    message = (
        f"record {item.key} is in doubt at stage {spec.name}: the process stopped mid-effect and "
        f"{reason}; check it, then 'orgplane checkpoint {worker.run_id} {item.key} {spec.name} "
        "--done' (it happened) or '--redo' (it did not)"
    )
    worker.put(item, spec.name, Checkpoint.IN_DOUBT, error=to_json({"message": message}, "error"))
    worker.settle(item, RecordState.HELD)
    event = _event(
        worker, item, spec.name, "in_doubt", message, {"idempotency_key": key_ctx.idempotency_key}
    )
    worker.buffer.event(
        event.model_copy(
            update={"dedupe_key": f"in_doubt:{worker.run_id}:{item.seq}:{spec.name}"[:300]}
        )
    )
