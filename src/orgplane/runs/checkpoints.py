"""Checkpoint rows: the buffer a worker fills while it works and commits at the right moments.

Rows of pure stages pile up and go to the store in one commit per chunk of records (repeating a
pure stage after a crash is harmless); an effectful stage's intent is committed before its
effect starts, together with the previous record's result: one commit per effectful step, and
on SQLite that commit is a single statement (an intent and a result are two rows of one
upsert, atomic on its own). A record that finished its last stage is settled at the end of its
chunk, not in the commit of its result: a worker that dies before that leaves it active with
every stage done, and whoever claims it next settles it without running anything.

Every commit checks the worker's lease by compare-and-set first (renewing it, or settling
records only if they are still this worker's), so a worker that lost its records writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from orgplane.respond.events import FailureEvent, record_event
from orgplane.runs.handoffs import insert_handoffs
from orgplane.runs.leases import LeaseLost, renew, still_mine
from orgplane.runs.rawdb import RawDb
from orgplane.runs.registry import idempotency_key as idempotency_key  # re-exported
from orgplane.runs.statements import (
    COLUMN,
    DONE,
    FAIL_RUN,
    INTENT,
    INTENT_AND_DONE,
    SETTLE,
    UPSERT,
    Checkpoint,
    RecordState,
    RunState,
    upsert,
)
from orgplane.store.types import utcnow


@dataclass
class Buffer:
    """Checkpoint rows and record settlements waiting for the next commit of one worker."""

    db: RawDb
    run_id: str
    worker: str
    lease: timedelta
    holding: int = 0
    seqs: tuple[int, int] = (0, 0)
    renew_by: float = 0.0  # time.monotonic() when a third of the lease will have passed
    intent: int | None = None
    rows: list[list[Any]] = field(default_factory=list)
    done: list[list[Any]] = field(default_factory=list)
    settled: dict[int, str] = field(default_factory=dict)
    finished: list[int] = field(default_factory=list)  # done records, settled at chunk end
    events: list[FailureEvent] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)  # rows of runs/handoffs.py
    run_failure: tuple[str, str, str, str] | None = None
    on_settled: Callable[[int], None] | None = None

    def put(
        self,
        seq: int,
        stage: str,
        status: str,
        key: str,
        attempts: int,
        output: str | None = None,
        error: str | None = None,
        reconciled: str | None = None,
        started: bool = False,
    ) -> None:
        """Queue a checkpoint row (a full row, as UPSERT takes it, less ``updated_at``, and with
        ``started`` where ``started_at`` goes); ``output`` and ``error`` are JSON text already."""
        if started:
            self.intent = seq
        row = [self.run_id, seq, stage, status, output, error, key, attempts, self.worker]
        row += (reconciled, started)
        self.rows.append(row)

    def put_done(
        self, seq: int, stage: str, attempts: int, output: str, reconciled: str | None
    ) -> None:
        """Queue the row of a stage the runner finished (``output`` is JSON text already)."""
        self.done.append([self.run_id, seq, stage, output, attempts, self.worker, reconciled])

    def commit_intent(
        self, seq: int, stage: str, key: str, attempts: int, reconciled: str | None
    ) -> None:
        """Commit an effectful stage's intent, with everything queued before it: when the start
        of its effect returns, the intent is durable.

        The common case (SQLite, at most the previous record's result queued, the lease fresh)
        is one statement (INTENT or INTENT_AND_DONE) bound straight from the values; anything
        else is queued and flushed like any other row."""
        if (
            self.db.sqlite
            and len(self.done) <= 1
            and not (self.rows or self.settled or self.events or self.handoffs)
            and self.run_failure is None
            and not self.due()
        ):
            now = self.db.ts(utcnow())
            if self.done:
                _, done_seq, done_stage, output, done_attempts, _, done_note = self.done.pop()
                intent = (self.run_id, seq, stage, key, attempts, self.worker, reconciled, now)
                result = (done_seq, done_stage, output, done_attempts, done_note)
                self.db.autocommit(INTENT_AND_DONE, (*intent, *result))
            else:
                params = (self.run_id, seq, stage, key, attempts, self.worker, reconciled, now)
                self.db.autocommit(INTENT, params)
            return
        self.put(seq, stage, STARTED, key, attempts, reconciled=reconciled, started=True)
        self.flush()

    def settle(self, seq: int, state: str) -> None:
        """Queue the end of a record's part in the run: done, skipped or held."""
        self.settled[seq] = state

    def finish(self, seq: int) -> None:
        """Queue a record that finished its last stage, to settle as done at the chunk's end
        (``flush(end=True)``): its result's commit stays one statement."""
        self.finished.append(seq)

    def event(self, event: FailureEvent) -> None:
        """Queue a failure event, to be recorded in the commit of the change it describes."""
        self.events.append(event)

    def handoff(self, row: dict[str, Any]) -> None:
        """Queue a hand-off's queue row, to be stored in the commit that settles its record."""
        self.handoffs.append(row)

    def fail_run(
        self, record_key: str, stage: str, error_json: str, state: str = RunState.FAILED
    ) -> None:
        """Queue the run's stop (``state``: failed, or paused), where it stopped and why (kept
        only if it is still running)."""
        self.run_failure = (str(state), record_key, stage, error_json)

    def hold(self, seqs: list[int]) -> None:
        """Start holding a freshly claimed chunk of records."""
        self.holding = len(seqs)
        self.seqs = (min(seqs), max(seqs))
        self.renewed(time.monotonic())

    def flush(self, *, renew_lease: bool = False, end: bool = False) -> None:
        """Commit everything queued, after checking this worker still holds its records.

        The whole chunk's lease is renewed (compare-and-set) at every commit of pure rows and
        whenever a third of the lease has passed; a commit of an effectful intent checks just
        that record; a commit settling every record still held checks each of them as it
        settles it. ``end`` (the chunk's last commit) settles the finished records too.
        Raises LeaseLost (and writes nothing) if another worker took one over.
        """
        if end and self.finished:
            self.settled.update(dict.fromkeys(self.finished, RecordState.DONE.value))
            self.finished.clear()
        if not (
            self.rows
            or self.done
            or self.settled
            or self.events
            or self.handoffs
            or self.run_failure
            or renew_lease
        ):
            return
        now = self.db.ts(utcnow())
        for row in self.rows:
            row[STARTED_AT] = now if row[STARTED_AT] else None
            row.append(now)
        for row in self.done:
            row.append(now)
        due = self.due()
        if (
            self.db.sqlite
            and self.intent is not None
            and not (due or renew_lease or self.settled or self.events or self.handoffs)
            and self.run_failure is None
            and len(self.rows) + len(self.done) <= ONE_STATEMENT
        ):
            # The effectful step's commit: its intent and the previous result, one statement.
            # The lease needs no check (see below), and one statement is its own transaction.
            rows = self.rows + [_as_upsert(row) for row in self.done]
            self.db.autocommit(upsert(len(rows)), [value for row in rows for value in row])
            self._committed()
            return
        # Settling every held record checks each of them (compare-and-set on the owner), so a
        # commit that ends the chunk needs no renewal.
        ends_chunk = len(self.settled) >= self.holding
        through_sa = self.events or self.handoffs
        transaction = self.db.sa_transaction() if through_sa else self.db.transaction()
        with transaction as cursor:
            if (self.intent is None or due or renew_lease) and not ends_chunk:
                renew(
                    self.db, cursor, self.run_id, self.worker, self.seqs, self.holding, self.lease
                )
                self.renewed(time.monotonic())
            elif self.intent is not None and not self.db.sqlite:
                still_mine(self.db, cursor, self.run_id, self.worker, self.intent)
            # On SQLite (one machine, one clock) a lease renewed less than a third of its length
            # ago cannot have been taken: claims take expired leases only, and this transaction
            # holds the write lock, so no claim can land before the intent is committed.
            # Other rows before done rows: a (record, stage) queued twice in one commit can only
            # be an intent or a release followed by its result, never the other way round.
            if self.db.sqlite:
                self.db.many(cursor, UPSERT, self.rows)
                self.db.many(cursor, DONE, self.done)
            else:  # one statement: on PostgreSQL every statement is a round trip to the server
                self.db.many(cursor, UPSERT, self.rows + [_as_upsert(row) for row in self.done])
            for state in {*self.settled.values()}:
                seqs = [seq for seq, s in self.settled.items() if s == state]
                statement = SETTLE.format(", ".join("?" * len(seqs)))
                touched = self.db.one(cursor, statement, (state, self.run_id, self.worker, *seqs))
                if touched.rowcount < len(seqs):
                    raise LeaseLost("a settled record was no longer held by this worker")
            if self.run_failure is not None:
                self.db.one(cursor, FAIL_RUN, (*self.run_failure, self.run_id))
            for event in self.events:
                record_event(self.db.sa, event)
            insert_handoffs(self.db.sa, self.handoffs)
        settled = len(self.settled)
        self.holding -= settled
        self._committed()
        if settled and self.on_settled is not None:
            self.on_settled(settled)

    def renewed(self, at: float) -> None:
        self.renew_by = at + self.lease.total_seconds() / 3

    def due(self) -> bool:
        """True when a third of the lease has passed since it was last renewed."""
        return time.monotonic() > self.renew_by

    def clear(self) -> None:
        """Forget everything queued (the records were lost to another worker)."""
        self.finished.clear()
        self._committed()

    def _committed(self) -> None:
        self.rows.clear()
        self.done.clear()
        self.settled.clear()
        self.events.clear()
        self.handoffs.clear()
        self.run_failure = None
        self.intent = None


STARTED_AT = COLUMN["started_at"]
STARTED = Checkpoint.STARTED.value
DONE_STATUS = Checkpoint.DONE.value
# Rows in the one statement of an effectful step's commit (an intent, a result, and the rows of
# a reconcile or a release before them); more go through executemany in a transaction.
ONE_STATEMENT = 8


def _as_upsert(done: list[Any]) -> list[Any]:
    """A DONE row as an UPSERT row (which keeps the stored idempotency key and started_at too)."""
    run_id, seq, stage, output, attempts, worker, reconciled, now = done
    status = DONE_STATUS
    return [run_id, seq, stage, status, output, None, None, attempts, worker, reconciled, None, now]
