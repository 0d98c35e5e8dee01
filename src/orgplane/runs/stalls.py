"""Runs whose every worker died: still ``running``, records leased, every lease run out.

Nobody else notices such a run: a worker that takes over dead leases records a ``crash`` event
itself, but when no worker is left there is nobody to take over. The daemon sweeps for them
and records the crash under the same dedupe key a takeover would use (``crash:RUN:WORKER``), so
one dead worker is one event whoever sees it first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, func, select

from orgplane.respond.events import FailureEvent, record_events
from orgplane.runs.statements import RecordState, RunState
from orgplane.store.tables import run_records, runs

if TYPE_CHECKING:
    from orgplane.org.models import Org

__all__ = ["Stall", "current_owners", "find_stalls", "record_stalls"]


@dataclass(frozen=True)
class Stall:
    """A run nobody works: its records still to do, the dead workers that held them, and when
    the last of their leases ran out."""

    run_id: str
    process_id: str
    seat_id: str | None
    workers: tuple[str, ...]
    pending: int
    expired_at: datetime


def find_stalls(conn: Connection, now: datetime) -> list[Stall]:
    """Every ``running`` run with records still to do, at least one of them leased, and no lease
    alive at ``now``. A run whose records were never claimed is not stalled: it may not have
    started yet, and nothing says a worker ever held it."""
    active = and_(
        run_records.c.run_id == runs.c.id,
        run_records.c.state == RecordState.ACTIVE.value,
    )
    per_run = (
        select(
            runs.c.id,
            runs.c.process_id,
            runs.c.seat_id,
            func.count().label("pending"),
            func.count(run_records.c.lease_owner).label("leased"),
            func.max(run_records.c.lease_until).label("last_lease"),
        )
        .select_from(runs.join(run_records, active))
        .where(runs.c.status == RunState.RUNNING.value)
        .group_by(runs.c.id, runs.c.process_id, runs.c.seat_id)
    )
    stalls = []
    for row in conn.execute(per_run):
        if not row.leased or row.last_lease is None or row.last_lease >= now:
            continue
        owners = conn.execute(
            select(run_records.c.lease_owner)
            .where(
                run_records.c.run_id == row.id,
                run_records.c.state == RecordState.ACTIVE.value,
                run_records.c.lease_owner.is_not(None),
            )
            .distinct()
        ).scalars()
        stalls.append(
            Stall(
                run_id=row.id,
                process_id=row.process_id,
                seat_id=row.seat_id,
                workers=tuple(sorted(str(o) for o in owners)),
                pending=int(row.pending),
                expired_at=row.last_lease,
            )
        )
    return stalls


def stall_events(stalls: list[Stall]) -> list[FailureEvent]:
    """One ``crash`` event per dead worker of each stalled run, keyed as a takeover keys it."""
    found = []
    for stall in stalls:
        for worker in stall.workers:
            found.append(
                FailureEvent(
                    kind="crash",
                    occurred_at=stall.expired_at,
                    subject_kind="run",
                    subject_id=stall.run_id,
                    run_id=stall.run_id,
                    seat_id=stall.seat_id,
                    visible=True,
                    message=f"worker {worker} stopped renewing its lease (presumed dead) and no "
                    f"worker is left; {stall.pending} record(s) of the run are still to do",
                    details={"worker": worker, "pending": stall.pending, "taken_by": None},
                    dedupe_key=f"crash:{stall.run_id}:{worker}"[:300],
                )
            )
    return found


def record_stalls(conn: Connection, now: datetime, org: Org | None = None) -> list[int]:
    """Record a crash for each dead worker of every stalled run not recorded yet, inside the
    caller's transaction; the ids of the events new here. With ``org``, each stall is the
    failure of the seat that runs its process now (:func:`current_owners`): a retired seat's
    processes no longer raise failures of their own."""
    stalls = find_stalls(conn, now)
    if org is not None:
        stalls = current_owners(stalls, org)
    ids = record_events(conn, stall_events(stalls))
    return [i for i in ids if i is not None]


def current_owners(stalls: list[Stall], org: Org) -> list[Stall]:
    """The stalls with each run's seat as the org declares it now: a run stored under a seat
    since retired is the failure of the seat its process was given to; a run of a process the
    org no longer declares, stored under a retired or undeclared seat, raises nothing (nobody
    is left to tell)."""
    kept = []
    for stall in stalls:
        process = org.processes.get(stall.process_id)
        if process is not None:
            kept.append(replace(stall, seat_id=process.seat))
            continue
        seat = org.seats.get(stall.seat_id or "")
        if seat is not None and seat.status == "active":
            kept.append(stall)
    return kept
