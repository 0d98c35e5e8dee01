"""Leases: which worker holds which records of a run, and until when.

A worker claims a handful of free records (never held, or whose lease ran out) in one short
transaction: PostgreSQL skips rows other workers are claiming (``FOR UPDATE SKIP LOCKED``), SQLite
serialises claims with ``BEGIN IMMEDIATE``. After that no row lock is held while work happens:
every later write is a compare-and-set on ``lease_owner``, so a worker whose lease was taken
over (it was presumed dead) finds out at its next write and stops, writing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orgplane.errors import LeaseLost
from orgplane.runs.rawdb import RawDb
from orgplane.runs.statements import (
    CHECKPOINTS,
    CLAIMABLE,
    FINISH,
    LEASE,
    RELEASE,
    REMAINING,
    RENEW,
    RUN_STATE,
    STILL_MINE,
    RecordState,
    RunState,
)
from orgplane.runs.status import next_run_state
from orgplane.store.types import utcnow

__all__ = ["Claim", "Claimed", "LeaseLost", "Remaining", "claim", "release", "renew", "still_mine"]


@dataclass(frozen=True)
class Claimed:
    """A record this worker now holds; ``previous_owner`` is set when it took over a lease."""

    seq: int
    key: str
    record: Any
    previous_owner: str | None


@dataclass(frozen=True)
class Claim:
    """The outcome of one claim: the run's status and the records now held."""

    run_status: str
    records: list[Claimed]
    checkpoints: list[Any] = field(default_factory=list)  # rows of CHECKPOINTS
    left: Remaining | None = None  # when nothing was free: what is left of the run


def claim(
    db: RawDb,
    run_id: str,
    worker: str,
    limit: int,
    lease: timedelta,
    known: dict[int, Any] | None = None,
) -> Claim:
    """Take up to ``limit`` free records of a running run, in batch order, with the checkpoints
    stored in their range of seqs (read in the same transaction). When no record is free, says
    what is left; with nothing active left, the run is finished (or held) in that transaction.

    ``known`` holds records by seq exactly as decoding their stored input gives them back (the
    batch this worker just stored): those are not decoded again, and each is used once (taken
    out), so a record claimed again is decoded afresh, whatever a stage did to its input."""
    now = utcnow()
    with db.transaction() as cursor:
        row = db.one(cursor, RUN_STATE, (run_id,)).fetchone()
        status = str(row[0]) if row else "missing"
        if status != RunState.RUNNING:
            return Claim(status, [])
        lock = "" if db.sqlite else " FOR UPDATE SKIP LOCKED"
        rows = db.one(cursor, CLAIMABLE + lock, (run_id, db.ts(now), limit)).fetchall()
        if not rows:
            return Claim(status, [], left=_finish_if_done(db, cursor, run_id))
        seqs = [r[0] for r in rows]
        marks = ", ".join("?" * len(seqs))
        db.one(cursor, LEASE.format(marks), (worker, db.ts(now + lease), run_id, *seqs))
        checkpoints = db.one(cursor, CHECKPOINTS, (run_id, min(seqs), max(seqs))).fetchall()
    known = known or {}
    return Claim(
        status,
        [
            Claimed(
                int(r[0]),
                str(r[1]),
                known.pop(r[0]) if r[0] in known else db.json_out(r[2]),
                r[3] if r[3] != worker else None,
            )
            for r in rows
        ],
        checkpoints,
    )


def renew(
    db: RawDb,
    cursor: Any,
    run_id: str,
    worker: str,
    seqs: tuple[int, int],
    expected: int,
    lease: timedelta,
) -> None:
    """Extend this worker's lease on its ``expected`` active records with ``seq`` in the range
    ``seqs``, inside the caller's transaction; raise LeaseLost (so the caller rolls back) if any
    was taken over. The range keeps this a short index scan however large the run."""
    if expected == 0:
        return
    until = db.ts(utcnow() + lease)
    touched = db.one(cursor, RENEW, (until, run_id, seqs[0], seqs[1], worker)).rowcount
    if touched < expected:
        raise LeaseLost(f"{expected - touched} of this worker's records were taken over")


def still_mine(db: RawDb, cursor: Any, run_id: str, worker: str, seq: int) -> None:
    """Check, inside the caller's write transaction, that record ``seq`` is still this worker's
    before its effect starts. SQLite's write transaction already excludes every other writer;
    PostgreSQL locks the row (``FOR UPDATE``) so a claim cannot slip in before the commit."""
    lock = "" if db.sqlite else " FOR UPDATE"
    found = db.one(cursor, STILL_MINE + lock, (run_id, seq, worker)).fetchone()
    if found is None:
        raise LeaseLost(f"record #{seq} was taken over")


def release(db: RawDb, run_id: str, worker: str) -> None:
    """Give back every record this worker still holds, so another can take it at once."""
    with db.transaction() as cursor:
        db.one(cursor, RELEASE, (run_id, worker))


@dataclass(frozen=True)
class Remaining:
    """Records of a run not settled yet, and when the first lease held on them runs out."""

    active: int
    held: int
    next_expiry: datetime | None


def remaining(db: RawDb, cursor: Any, run_id: str) -> Remaining:
    """How much of a run is left, to decide between finishing it and waiting for a lease."""
    rows = db.one(cursor, REMAINING, (run_id,)).fetchall()
    counts = {str(r[0]): (int(r[1]), r[2]) for r in rows}
    active, expiry = counts.get(RecordState.ACTIVE, (0, None))
    return Remaining(active, counts.get(RecordState.HELD, (0, None))[0], db.ts_out(expiry))


def _finish_if_done(db: RawDb, cursor: Any, run_id: str) -> Remaining:
    left = remaining(db, cursor, run_id)
    new = next_run_state(RunState.RUNNING, left.active, left.held)
    if new is not None:  # FINISH changes only a run that is still running
        db.one(cursor, FINISH, (new.value, db.ts(utcnow()), run_id))
    return left
