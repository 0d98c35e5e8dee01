"""A seat's process as code: its declared stages bound to functions, and the runs of batches.

    process = load_process(org, "nick-prospecting", store)
    status = process.run(records, batch="2026-06-21")   # runs again = resumes

Running a batch id that exists resumes it: finished (record, stage) pairs are never executed
again and their stored outputs feed the next stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import select, update

from orgplane.errors import NotFoundError, UsageError
from orgplane.learn.incidents import open_incident_of_run
from orgplane.org.models import Org
from orgplane.org.models import Process as Declared
from orgplane.runs.holds import Force, record_force, refusal, unclassified
from orgplane.runs.leases import Claim, Claimed
from orgplane.runs.rawdb import RawDb
from orgplane.runs.records import as_stored, encode, record_keys, records_digest, to_json
from orgplane.runs.registry import StageSpec, import_stage_module
from orgplane.runs.statements import (
    INSERT_LEASED,
    INSERT_RECORD,
    INSERT_RUN,
    RUN_DIGEST,
    RUN_STAGES,
    RecordState,
    RunState,
    json_or_null,
)
from orgplane.runs.status import RunStatus, read_status
from orgplane.runs.worker import Worker, new_worker_id
from orgplane.store.engine import Store
from orgplane.store.tables import runs
from orgplane.store.types import utcnow

DEFAULT_LEASE = timedelta(seconds=60)


def run_id_for(process_id: str, batch: str) -> str:
    """The id of the run of ``batch`` by ``process_id``: ``process:batch``."""
    return f"{process_id}:{batch}"


class Process:
    """A declared process with a function for each of its stages, working runs in ``store``.

    ``lease`` is how long a worker may go without writing before its records may be taken
    over (longer than the slowest single stage call); ``chunk`` is how many records a worker
    claims at a time (pure checkpoints are committed once per stage per chunk).
    """

    def __init__(
        self,
        org: Org,
        process_id: str,
        stages: dict[str, StageSpec],
        store: Store,
        *,
        lease: timedelta = DEFAULT_LEASE,
        chunk: int = 100,
        where: str = "",
    ) -> None:
        if process_id not in org.processes:
            known = ", ".join(sorted(org.processes)) or "none"
            raise NotFoundError(f"no process {process_id!r} in {org.source}; declared: {known}")
        self.org = org
        self.definition: Declared = org.processes[process_id]
        self.store = store
        self.lease = lease
        self.chunk = min(max(1, chunk), 1000)  # bounded: claims list their records in SQL
        declared = [s.name for s in self.definition.stages]
        source = where or "the given stages"
        missing = [n for n in declared if n not in stages]
        if missing:
            raise UsageError(
                f"{source}: no @stage for {', '.join(map(repr, missing))} of process "
                f"{process_id!r}; add @stage('{missing[0]}') to a function"
            )
        extra = sorted(set(stages) - set(declared))
        if extra:
            raise UsageError(
                f"{source}: @stage {', '.join(map(repr, extra))} is not a stage of {process_id!r} "
                f"in {org.source}; declared: {', '.join(declared)}"
            )
        for spec in stages.values():
            kind = next(s.kind for s in self.definition.stages if s.name == spec.name)
            if spec.reconcile is not None and kind == "pure":
                raise UsageError(
                    f"{source}: stage {spec.name!r} is pure in org.yaml; only effectful stages "
                    "have a reconcile function"
                )
        self.stages = stages

    @property
    def id(self) -> str:
        return self.definition.id

    def run(
        self,
        records: Sequence[Any],
        *,
        batch: str | None = None,
        worker: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunStatus:
        """Run (or resume, or join as one more worker) ``batch`` over ``records``; return its status.

        Returns when the run is finished, stopped by an error, or left with records held for a
        person. Stage failures never raise: they are in the returned status.
        """
        db = RawDb(self.store)  # one connection for storing, working and reading the status
        try:
            worker = worker or new_worker_id()
            claim_for = (worker, self.chunk, self.lease)
            stored = store_run(db, self.definition, records, batch=batch, claim_for=claim_for)
            return self._work(db, stored.run_id, worker, progress, stored)
        finally:
            db.close()

    def start(self, records: Sequence[Any], *, batch: str | None = None) -> str:
        """Store the run of ``batch`` without working it; see :func:`start_run`."""
        return start_run(self.store, self.definition, records, batch=batch)

    def resume(
        self,
        run_id: str,
        *,
        worker: str | None = None,
        progress: Callable[[int], None] | None = None,
        force: Force | None = None,
    ) -> RunStatus:
        """Reopen a stopped run and work what is left of it (also: join it as another worker).

        A run held by an unclassified unhandled error is refused (UsageError) unless ``force``
        gives the reason: see :func:`reopen`."""
        reopen(self.store, run_id, process_id=self.id, definition=self.definition, force=force)
        return self.work(run_id, worker=worker, progress=progress)

    def work(
        self,
        run_id: str,
        *,
        worker: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunStatus:
        """Work ``run_id`` as one worker until it is finished, stopped or held; its status.

        Refuses (UsageError) a run of another process, or one started when the process had
        other stages: its checkpoints would not line up with the stages run now.
        """
        db = RawDb(self.store)
        try:
            return self._work(db, run_id, worker, progress)
        finally:
            db.close()

    def _work(
        self,
        db: RawDb,
        run_id: str,
        worker: str | None,
        progress: Callable[[int], None] | None,
        stored: Stored | None = None,
    ) -> RunStatus:
        if stored is None or not stored.created:  # a run created now has its stages
            self._check(db, run_id)
        known, first = (stored.known, stored.first) if stored else (None, None)
        Worker(self, run_id, worker or new_worker_id(), progress, known, db=db, first=first).work()
        return read_status(db, run_id)

    def _check(self, db: RawDb, run_id: str) -> None:
        with db.snapshot() as cursor:
            row = db.one(cursor, RUN_STAGES, (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        process_id, stages = row[0], db.json_out(row[1])
        declared = [{"name": s.name, "kind": s.kind} for s in self.definition.stages]
        if process_id != self.id or stages != declared:
            stored = ", ".join(f"{s['name']} ({s['kind']})" for s in stages)
            raise UsageError(
                f"run {run_id} was started by {process_id} with stages {stored}; "
                f"{self.id} now declares {', '.join(f'{s.name} ({s.kind})' for s in self.definition.stages)}: "
                "finish it with the old declaration or start another --batch"
            )


def stores_only(definition: Declared) -> bool:
    """True when a process declares no ``module:``: ``run start`` only stores its run and
    ``run resume`` only reopens it; its agent records each stage with ``orgplane checkpoint``."""
    return definition.module is None


def start_run(
    store: Store, definition: Declared, records: Sequence[Any], *, batch: str | None = None
) -> str:
    """Store the run of ``batch`` (today's UTC date if not given) by ``definition``; its id.

    If the run exists with the same records it is reopened (a stopped run becomes running,
    unless an unhandled error holds it: see :func:`reopen`); with different records it is a
    UsageError. Records must be JSON-serialisable.
    """
    db = RawDb(store)
    try:
        return store_run(db, definition, records, batch=batch).run_id
    finally:
        db.close()


@dataclass(frozen=True)
class Stored:
    """A run as :func:`store_run` left it: ``known`` holds the records by seq as the stages will
    see them (as decoding their stored JSON gives them back: they need not be decoded again);
    ``first`` the records claimed for the worker while creating the run."""

    run_id: str
    known: dict[int, Any]
    created: bool
    first: Claim | None = None


def store_run(
    db: RawDb,
    definition: Declared,
    records: Sequence[Any],
    *,
    batch: str | None = None,
    claim_for: tuple[str, int, timedelta] | None = None,
) -> Stored:
    """:func:`start_run` on a worker's connection. ``claim_for`` (worker, chunk, lease): a run
    created now has its first chunk of records stored already leased to that worker, in the same
    transaction (what a claim right after would do)."""
    batch = batch or utcnow().date().isoformat()
    if not batch or len(batch) > 100:
        raise UsageError("a batch id is 1 to 100 characters, e.g. --batch 2026-06-21")
    records = list(records)
    if not records:
        raise UsageError(f"batch {batch!r} has no records; give at least one")
    keys = record_keys(records, f"batch {batch!r}")
    try:
        texts = [encode(r) for r in records]
    except (TypeError, ValueError, RecursionError):  # find which one, for the message
        for key, record in zip(keys, records, strict=True):
            to_json(record, f"record {key} of batch {batch!r}")
        raise
    digest = records_digest(texts)
    run_id = run_id_for(definition.id, batch)
    stages = encode([{"name": s.name, "kind": s.kind} for s in definition.stages])
    with db.transaction() as cursor:
        values = (run_id, definition.id, batch, definition.seat, stages, len(records), digest)
        if db.one(cursor, INSERT_RUN, (*values, db.ts(utcnow()))).rowcount == 1:
            # Straight to the driver with the JSON already made: SQLAlchemy's per-row type
            # processing would double the cost of storing a large batch.
            rows = [
                (run_id, seq, key, text, RecordState.ACTIVE.value)
                for seq, (key, text) in enumerate(zip(keys, texts, strict=True), start=1)
            ]
            known = _as_stored(records, texts)
            if claim_for is None:
                db.many(cursor, INSERT_RECORD, rows)
                return Stored(run_id, known, True)
            worker, chunk, lease = claim_for
            until = db.ts(utcnow() + lease)
            db.many(cursor, INSERT_LEASED, [(*row[:4], worker, until) for row in rows[:chunk]])
            db.many(cursor, INSERT_RECORD, rows[chunk:])
            first = [
                Claimed(s, keys[s - 1], known.pop(s), None) for s in range(1, len(rows[:chunk]) + 1)
            ]
            return Stored(run_id, known, True, Claim("running", first))
        stored = db.one(cursor, RUN_DIGEST, (run_id,))
        same = stored.fetchone()[0] == digest
    if not same:
        raise UsageError(
            f"run {run_id} exists with different records; resume it with its own records "
            "('orgplane run resume') or start another --batch"
        )
    reopen(db.store, run_id, definition=definition)
    return Stored(run_id, _as_stored(records, texts), False)


def _as_stored(records: list[Any], texts: list[str]) -> dict[int, Any]:
    return {
        seq: as_stored(record, text)
        for seq, (record, text) in enumerate(zip(records, texts, strict=True), start=1)
    }


def reopen(
    store: Store,
    run_id: str,
    *,
    process_id: str | None = None,
    definition: Declared | None = None,
    force: Force | None = None,
) -> None:
    """Make a stopped (failed, paused or held) run running again; a finished run stays
    finished.

    With ``definition`` (the process as declared now) the fix-before-restart rule applies: a
    run that failed on an unhandled error still unclassified raises UsageError naming the error
    and the ways out, unless ``force`` gives a reason, which is recorded on the run's open
    incident and in ``forced_resumes`` in the same transaction (see :mod:`orgplane.runs.holds`).
    """
    with store.write() as conn:
        row = conn.execute(
            select(
                runs.c.process_id,
                runs.c.status,
                runs.c.error,
                runs.c.stopped_record,
                runs.c.stopped_stage,
            ).where(runs.c.id == run_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        if process_id is not None and row.process_id != process_id:
            raise UsageError(
                f"run {run_id} belongs to process {row.process_id!r}, not {process_id!r}"
            )
        if definition is not None and unclassified(row.status, row.error, definition):
            incident = open_incident_of_run(conn, run_id)
            where = (row.stopped_record, row.stopped_stage)
            if force is None:
                raise refusal(
                    run_id, row.error, definition, where, incident["id"] if incident else None
                )
            record_force(conn, run_id, row.error, where, force, incident)
        if row.status in (RunState.FAILED, RunState.PAUSED, RunState.HELD, RunState.STOPPED):
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status=RunState.RUNNING.value,
                    stopped_record=None,
                    stopped_stage=None,
                    error=json_or_null(None),
                    finished_at=None,
                )
            )


def load_process(
    org: Org,
    process_id: str,
    store: Store,
    *,
    module: str | ModuleType | None = None,
    lease: timedelta = DEFAULT_LEASE,
    chunk: int = 100,
) -> Process:
    """The process ``process_id`` with its stages imported (afresh) from its module.

    ``module`` overrides org.yaml's ``module:``: a path relative to the org file, a dotted
    module name, or an imported module.
    """
    if process_id not in org.processes:
        known = ", ".join(sorted(org.processes)) or "none"
        raise NotFoundError(f"no process {process_id!r} in {org.source}; declared: {known}")
    loaded = import_stage_module(org, process_id, module)
    return Process(
        org, process_id, loaded.stages, store, lease=lease, chunk=chunk, where=loaded.where
    )
