"""What happens to a record when a stage does not simply succeed.

A handled error does what org.yaml says (skip the record, hold it for a person, fail the run);
an unhandled one stops the run with a failure record and an event; a stage left in doubt by a
crash is reconciled or held. Every path queues its rows and events on the worker's buffer, so
they commit together with the state change they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orgplane.org.models import HandledError
from orgplane.respond.events import EventKind, FailureEvent
from orgplane.runs.policy import Failure
from orgplane.runs.records import decode, to_json
from orgplane.runs.registry import StageSpec
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


def apply_handled(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    failure: Failure,
    handled: HandledError | None,
) -> None:
    """Do what the process's handled errors say about ``failure``; stop the run if nothing."""
    if handled is None or handled.action in ("fail_run", "retry"):
        stop_run(worker, item, index, stage, attempt, failure, handled)
        return
    error = to_json(failure.as_dict(handled), "error")
    if handled.action == "skip_record":
        worker.put(item, stage, "skipped", error=error, attempts=attempt)
        for later in worker.specs[index + 1 :]:
            worker.put(item, later.name, "skipped", error=error, attempts=0)
        worker.settle(item, "skipped")
        return
    # escalate: the record waits for a person; the rest of the batch goes on.
    worker.put(item, stage, "held", error=error, attempts=attempt)
    worker.settle(item, "held")
    worker.buffer.events.append(
        _event(
            worker,
            item,
            stage,
            "handled_error",
            f"{handled.message} (record {item.key}, stage {stage}; held for {handled.escalate_to})",
            {**failure.as_dict(handled), "escalate_to": handled.escalate_to},
        )
    )


def stop_run(
    worker: Worker,
    item: Item,
    index: int,
    stage: str,
    attempt: int,
    failure: Failure,
    handled: HandledError | None,
) -> None:
    """Stop the run at (``item``, ``stage``): a failed checkpoint, the run's failure record and
    an event, committed together; the worker finishes what is in flight and claims nothing."""
    details = failure.as_dict(handled)
    if handled is None:
        kind: EventKind = "unhandled_error"
        message = (
            f"unhandled {failure.summary()} at record {item.key}, stage {stage}; add it to "
            f"the handled errors of {worker.process.definition.id} or fix the stage, then resume"
        )
    else:
        kind = "handled_error"
        reason = "retries exhausted" if handled.action == "retry" else "fail_run"
        message = f"{handled.message} (record {item.key}, stage {stage}; {reason})"
    details["summary"] = message
    error = to_json(details, "error")
    worker.put(item, stage, "failed", error=error, attempts=attempt)
    worker.buffer.fail_run(item.key, stage, error)
    worker.buffer.events.append(_event(worker, item, stage, kind, message, details))
    worker.stopped = True
    worker.stop_stage = index


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
                worker.put(item, spec.name, "done", output=text, reconciled="done")
                item.outputs[spec.name] = decode(text)
                if index == len(worker.specs) - 1:
                    worker.settle(item, "done")
                return
            # The effect did not happen: the stage runs again, with the same idempotency key.
            worker.put(item, spec.name, "pending", reconciled="not_done")
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
    worker.put(item, spec.name, "in_doubt", error=to_json({"message": message}, "error"))
    worker.settle(item, "held")
    event = _event(
        worker, item, spec.name, "in_doubt", message, {"idempotency_key": key_ctx.idempotency_key}
    )
    worker.buffer.events.append(
        event.model_copy(
            update={"dedupe_key": f"in_doubt:{worker.run_id}:{item.seq}:{spec.name}"[:300]}
        )
    )
