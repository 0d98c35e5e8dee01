"""One worker working one run: claim records, run their stages in order, checkpoint, repeat.

Per chunk of claimed records the stages run one after another: every record of the chunk goes
through stage 1 before any of them enters stage 2. An effectful stage commits its intent
("started") before each call, together with every row queued before it, so a record's
checkpoints are durable before it enters an effectful stage; a crash mid-effect leaves an intent
without a result: the record is *in doubt*, and whoever picks it up next asks the stage's
reconcile function or holds it for a person. The checkpoints of consecutive pure stages go in
one commit (at the next intent or the end of the chunk): a crash before it only repeats pure
stages, which is harmless, and their outputs are never seen by anything but the next stage.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orgplane.respond.events import FailureEvent
from orgplane.runs.checkpoints import Buffer, idempotency_key
from orgplane.runs.handoffs import HandOff
from orgplane.runs.leases import Claim, Claimed, LeaseLost, Remaining, claim, release
from orgplane.runs.outcomes import Item, apply_decision, hand_off, resolve_in_doubt, stop_run
from orgplane.runs.policy import Decision, Failure, decide, names_of
from orgplane.runs.rawdb import RawDb
from orgplane.runs.records import as_stored, encode, not_json
from orgplane.runs.registry import StageContext, StageSpec
from orgplane.runs.statements import Checkpoint, RecordState
from orgplane.store.types import utcnow

if TYPE_CHECKING:
    from orgplane.runs.process import Process


def new_worker_id() -> str:
    """A fresh worker id: unique per process run, readable in status and events."""
    return f"w-{uuid.uuid4().hex[:12]}"


class Worker:
    """Works ``run_id`` until nothing is left to claim, the run stops, or it finishes."""

    def __init__(
        self,
        process: Process,
        run_id: str,
        worker_id: str,
        progress: Callable[[int], None] | None = None,
        known: dict[int, Any] | None = None,
        *,
        db: RawDb,
        first: Claim | None = None,
    ) -> None:
        self.first = first  # records claimed for this worker when it created the run
        self.process = process
        self.known = known  # records by seq as stored, when this worker stored the batch
        self.run_id = run_id
        self.worker_id = worker_id
        self.db = db  # the caller's connection: it opens and closes it
        self.buffer = Buffer(self.db, run_id, worker_id, process.lease, on_settled=progress)
        self.stopped = False
        self.stop_stage: int | None = None
        self.org_dir = process.org.base_dir
        self.kinds = {s.name: s.kind for s in process.definition.stages}
        self.specs = [process.stages[s.name] for s in process.definition.stages]
        self.names = [s.name for s in self.specs]

    def work(self) -> None:
        """Claim and work chunks until the run is finished, stopped, or held for a person."""
        try:
            while not self.stopped:
                taken = self.first or claim(
                    self.db,
                    self.run_id,
                    self.worker_id,
                    self.process.chunk,
                    self.process.lease,
                    self.known,
                )
                self.first = None
                if taken.run_status != "running":
                    return
                if not taken.records:
                    if taken.left is None or taken.left.active == 0:
                        return  # the claim finished the run (or held it)
                    self._wait(taken.left)
                    continue
                self._note_takeovers(taken.records)
                try:
                    self._work_chunk(taken)
                except LeaseLost:
                    self.buffer.clear()  # another worker owns these records now
        finally:
            if self.buffer.holding:  # only after an error: normal chunks end settled
                release(self.db, self.run_id, self.worker_id)

    def _wait(self, left: Remaining) -> None:
        # Records are leased by other workers: wait for them to finish or their leases to expire.
        wait = self.process.lease.total_seconds() / 4
        if left.next_expiry is not None:
            wait = min(wait, max(0.01, (left.next_expiry - utcnow()).total_seconds() + 0.01))
        time.sleep(min(wait, 1.0))

    def _note_takeovers(self, records: list[Claimed]) -> None:
        dead = {r.previous_owner for r in records if r.previous_owner}
        if not dead:
            return
        for owner in sorted(dead):
            self.buffer.event(
                FailureEvent(
                    kind="crash",
                    occurred_at=utcnow(),
                    subject_kind="run",
                    subject_id=self.run_id,
                    run_id=self.run_id,
                    seat_id=self.process.definition.seat,
                    message=f"worker {owner} stopped renewing its lease (presumed dead); "
                    f"{self.worker_id} took over its records",
                    details={"worker": owner, "taken_by": self.worker_id},
                    dedupe_key=f"crash:{self.run_id}:{owner}"[:300],
                )
            )

    def _load(self, taken: Claim) -> list[Item]:
        items = {r.seq: Item(r.seq, r.key, r.record) for r in taken.records}
        for seq, stage, status, output, attempts, reconciled in taken.checkpoints:
            item = items.get(int(seq))
            if item is None:
                continue  # in the range but claimed by another worker
            item.rows[str(stage)] = (str(status), int(attempts), reconciled)
            if status == Checkpoint.DONE:
                item.outputs[str(stage)] = self.db.json_out(output)
        return list(items.values())

    def _work_chunk(self, taken: Claim) -> None:
        items = self._load(taken)
        self.buffer.hold([item.seq for item in items])
        for item in items:
            if len(item.outputs) == len(self.names):
                # Its last result was committed, its chunk's end was not: settle it now.
                self.settle(item, RecordState.DONE)
        for index, spec in enumerate(self.specs):
            for item in items:
                row = item.rows.get(spec.name)
                if item.active and row is not None and row[0] == Checkpoint.STARTED:
                    resolve_in_doubt(self, item, index, spec)
        self.buffer.flush()
        names = self.names
        for index, spec in enumerate(self.specs):
            effectful = self.kinds[spec.name] == "effectful"
            last = index == len(self.specs) - 1
            for item in items:
                if self.stop_stage is not None and index <= self.stop_stage:
                    break  # stopped: finish what is in flight, start nothing new
                if not item.active or spec.name in item.outputs:
                    continue
                if index and names[index - 1] not in item.outputs:
                    continue  # an earlier stage stopped before this record got there
                if effectful:  # the intent is durable before the effect starts
                    self._intent(item, spec.name)
                self._run_stage(item, index, spec, last)
                if not effectful and self.buffer.due():
                    self.buffer.flush(renew_lease=True)  # a slow pure stage keeps its lease
            if effectful or last:
                self.buffer.flush(end=last)
            # A pure stage's rows wait for the next commit: the next effectful stage's first
            # intent, or the end of the chunk. A crash before it repeats only pure stages.
        if any(item.active for item in items):
            release(self.db, self.run_id, self.worker_id)
        self.buffer.holding = 0

    def put(self, item: Item, stage: str, status: str, **values: Any) -> None:
        """Queue a checkpoint row for (item, stage), keeping the attempts and reconcile note."""
        previous = item.rows.get(stage)
        attempts = values.pop("attempts", previous[1] if previous else 0)
        reconciled = values.pop("reconciled", previous[2] if previous else None)
        key = self.key_of(item, stage)
        self.buffer.put(item.seq, stage, status, key, attempts, reconciled=reconciled, **values)
        item.rows[stage] = (status, attempts, reconciled)

    def _intent(self, item: Item, stage: str) -> None:
        """Commit the intent of ``item``'s effectful ``stage`` (with the previous result)."""
        previous = item.rows.get(stage)
        attempts, reconciled = (previous[1], previous[2]) if previous else (0, None)
        self.buffer.commit_intent(item.seq, stage, self.key_of(item, stage), attempts, reconciled)
        item.rows[stage] = (Checkpoint.STARTED, attempts, reconciled)

    def key_of(self, item: Item, stage: str) -> str:
        """The idempotency key of (run, item, stage), computed once per record and stage."""
        key = item.keys.get(stage)
        if key is None:
            key = item.keys[stage] = idempotency_key(self.run_id, item.key, stage)
        return key

    def context(self, item: Item, stage: str, attempt: int) -> StageContext:
        """What the stage function is told besides its input."""
        # Positional: this runs once per step, and keywords cost twice as much.
        return StageContext(
            self.run_id,
            item.key,
            stage,
            self.key_of(item, stage),
            attempt,
            item.record,
            item.outputs,
            self.org_dir,
        )

    def input_of(self, item: Item, index: int) -> Any:
        return item.record if index == 0 else item.outputs[self.names[index - 1]]

    def _run_stage(self, item: Item, index: int, spec: StageSpec, last: bool) -> None:
        """Call the stage (with the declared retries) and queue what came of it."""
        name = spec.name
        previous = item.rows.get(name)
        attempt = previous[1] if previous else 0
        key = item.keys.get(name)  # known for an effectful stage (its intent); else computed
        # only if the stage reads it
        value = item.record if index == 0 else item.outputs[self.names[index - 1]]
        while True:
            attempt += 1
            context = StageContext(
                self.run_id, item.key, name, key, attempt, item.record, item.outputs, self.org_dir
            )
            try:
                output = spec.function(value, context)
            except HandOff as given:  # work for a person by design: not a failure
                hand_off(self, item, index, name, attempt, given)
                return
            except Exception as exc:
                failure = Failure.from_exception(exc)
                decision = decide(self.process.definition, names_of(exc), attempt)
                if decision.action == "retry":
                    self._sleep(decision.delay)
                    continue
                apply_decision(self, item, index, name, attempt, failure, decision)
                return
            try:
                text = encode(output)
            except (TypeError, ValueError, RecursionError) as exc:
                message = f"stage {name!r} output for record {item.key} {not_json(exc)}"
                failure = Failure("OutputNotJSON", message, None, None)
                stop_run(self, item, index, name, attempt, failure, Decision("fail", None))
                return
            # The hot path of every stage: the done row, queued without keyword juggling.
            reconciled = previous[2] if previous else None
            self.buffer.put_done(item.seq, name, attempt, text, reconciled)
            item.rows[name] = (Checkpoint.DONE, attempt, reconciled)
            if last:
                item.active = False
                self.buffer.finish(item.seq)
            else:
                item.outputs[name] = as_stored(output, text)  # the next stage sees what is stored
            return

    def _sleep(self, seconds: float) -> None:
        # Keep the lease while waiting out a backoff longer than a fraction of it.
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.process.lease.total_seconds() / 3))
            self.buffer.flush(renew_lease=True)

    def settle(self, item: Item, state: str) -> None:
        """Queue the end of ``item``'s part in the run (done, skipped or held)."""
        item.active = False
        self.buffer.settle(item.seq, state)

    def stop_at(self, index: int) -> None:
        """Stop the run at stage ``index``: finish what is in flight, start nothing new."""
        self.stopped = True
        self.stop_stage = index
