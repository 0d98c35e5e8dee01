"""The delegation ledger: is a process really delegated, measured from what actually happened.

For every process, over the runs started in a window, each record falls in one bucket:

- **agent**: the record is done and no person did its work (the agent finished it on its own,
  a non-Python agent's own checkpoints included);
- **handed off by design**: a stage handed it to a person while the run was running (an unusual
  email: judgment, not failure), whatever the person then did with it;
- **person after a failure**: a person completed it after a failure: a hand-off made, or a
  manual ``--done`` checkpoint recorded, while the run was failed or held or that stage had
  failed, was held or was in doubt (fixed on the row when it was written);
- **other**: skipped, still held, still to do.

A process's *failures* are its records named by a failure event (an unhandled or handled
error, a record in doubt, ...) plus those a person completed after a failure. The process is
flagged **not really delegated** when the share of its failures that ended with a person doing
the work is at or over its ``not_delegated_at`` (default 50%). Per human seat: how many
hand-offs it got, how fast it answered them (median and worst), how many it sent back into
their runs, how many are open and how many went overdue.

:func:`delegation_ledger` is the one entry point (the weekly audit calls it too).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select

from orgplane.org.models import Org
from orgplane.runs.statements import RecordState
from orgplane.store.tables import events, handoffs, manual_checkpoints, run_records, runs

DEFAULT_WINDOW = timedelta(days=28)
NOT_FAILURES = ("overdue_handoff", "recovered")
"""Event kinds that do not say a record failed: a late person, a recovery."""

RecordId = tuple[str, str]  # (run_id, record_key)


@dataclass(frozen=True)
class ProcessLedger:
    """One process's records over the window, by who finished them, and its flag."""

    process_id: str
    seat_id: str | None
    runs: int
    records: int
    agent: int
    handed_off: int
    person_after_failure: int
    other: int
    failures: int
    not_delegated_at: float
    not_really_delegated: bool

    def share(self, count: int) -> float | None:
        """``count`` as a share of the process's records (None when it has none)."""
        return count / self.records if self.records else None

    @property
    def person_share_of_failures(self) -> float | None:
        """The share of failures that ended with a person doing the work (None: no failure)."""
        return self.person_after_failure / self.failures if self.failures else None


@dataclass(frozen=True)
class SeatLedger:
    """One human seat's hand-offs over the window."""

    seat_id: str
    received: int
    answered: int
    returned: int
    open: int
    overdue: int
    median_answer_seconds: float | None
    worst_answer_seconds: float | None


@dataclass(frozen=True)
class Ledger:
    """The delegation ledger of ``[since, until)``."""

    since: datetime
    until: datetime
    processes: list[ProcessLedger] = field(default_factory=list)
    seats: list[SeatLedger] = field(default_factory=list)

    @property
    def not_really_delegated(self) -> list[str]:
        """The processes flagged "not really delegated"."""
        return [p.process_id for p in self.processes if p.not_really_delegated]


def default_since(until: datetime) -> datetime:
    """The start of the default window: 28 days before ``until``."""
    return until - DEFAULT_WINDOW


def delegation_ledger(conn: Connection, org: Org, since: datetime, until: datetime) -> Ledger:
    """The ledger of the runs started in ``[since, until)`` and the hand-offs made in it, read in
    the caller's transaction. Every process declared in ``org`` has a row (zero when it did not
    run), then any process that ran and has left the org; every active human seat has a row."""
    in_window = and_(runs.c.created_at >= since, runs.c.created_at < until)
    window_runs = select(runs.c.id).where(in_window).subquery()
    totals: dict[str, tuple[int, int, str | None]] = {}
    for process_id, seat_id, count, records in conn.execute(
        select(runs.c.process_id, runs.c.seat_id, func.count(), func.sum(runs.c.records_total))
        .where(in_window)
        .group_by(runs.c.process_id, runs.c.seat_id)
    ):
        before = totals.get(process_id, (0, 0, seat_id))
        totals[process_id] = (before[0] + int(count), before[1] + int(records or 0), seat_id)
    done: dict[str, int] = {
        str(process_id): int(count)
        for process_id, count in conn.execute(
            select(runs.c.process_id, func.count())
            .select_from(runs.join(run_records, run_records.c.run_id == runs.c.id))
            .where(in_window, run_records.c.state == RecordState.DONE.value)
            .group_by(runs.c.process_id)
        )
    }
    process_of: dict[str, str] = {}
    after: set[RecordId] = set()
    design: set[RecordId] = set()
    for run_id, key, process_id, during in conn.execute(
        select(
            handoffs.c.run_id,
            handoffs.c.record_key,
            handoffs.c.process_id,
            handoffs.c.during_failure,
        ).where(handoffs.c.run_id.in_(select(window_runs.c.id)))
    ):
        (after if during else design).add((run_id, key))
        process_of[run_id] = process_id
    for run_id, key, process_id in conn.execute(
        select(manual_checkpoints.c.run_id, manual_checkpoints.c.record_key, runs.c.process_id)
        .select_from(manual_checkpoints.join(runs, runs.c.id == manual_checkpoints.c.run_id))
        .where(
            in_window,
            manual_checkpoints.c.action == "done",
            manual_checkpoints.c.during_failure.is_(True),
        )
    ):
        after.add((run_id, key))
        process_of[run_id] = process_id
    design -= after  # a record handed off by design and then finished after a failure
    failed: set[RecordId] = set()
    for run_id, key, process_id in conn.execute(
        select(events.c.run_id, events.c.record_key, runs.c.process_id)
        .distinct()
        .select_from(events.join(runs, runs.c.id == events.c.run_id))
        .where(
            in_window,
            events.c.record_key.is_not(None),
            events.c.kind.not_in(NOT_FAILURES),
        )
    ):
        failed.add((run_id, key))
        process_of[run_id] = process_id
    failed |= after
    # How many of the records a person touched are done: they are not the agent's.
    touched = sorted(after | design)
    done_by_people: dict[str, int] = {}
    for start in range(0, len(touched), 500):
        chunk = touched[start : start + 500]
        for run_id in {r for r, _ in chunk}:
            keys = [k for r, k in chunk if r == run_id]
            count = conn.execute(
                select(func.count()).where(
                    run_records.c.run_id == run_id,
                    run_records.c.key.in_(keys),
                    run_records.c.state == RecordState.DONE.value,
                )
            ).scalar_one()
            process_id = process_of[run_id]
            done_by_people[process_id] = done_by_people.get(process_id, 0) + int(count)

    def per_process(ids: set[RecordId]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for run_id, _ in ids:
            counts[process_of[run_id]] = counts.get(process_of[run_id], 0) + 1
        return counts

    after_by, design_by, failed_by = per_process(after), per_process(design), per_process(failed)
    order = [*org.processes, *sorted(set(totals) - set(org.processes))]
    processes = []
    for process_id in order:
        declared = org.processes.get(process_id)
        run_count, records, seat_id = totals.get(process_id, (0, 0, None))
        agent = done.get(process_id, 0) - done_by_people.get(process_id, 0)
        person = after_by.get(process_id, 0)
        by_design = design_by.get(process_id, 0)
        failures = failed_by.get(process_id, 0)
        threshold = declared.not_delegated_at if declared is not None else 0.5
        processes.append(
            ProcessLedger(
                process_id=process_id,
                seat_id=declared.seat if declared is not None else seat_id,
                runs=run_count,
                records=records,
                agent=agent,
                handed_off=by_design,
                person_after_failure=person,
                other=max(0, records - agent - by_design - person),
                failures=failures,
                not_delegated_at=threshold,
                not_really_delegated=failures > 0 and person / failures >= threshold,
            )
        )
    return Ledger(since, until, processes, _seats(conn, org, since, until))


def _seats(conn: Connection, org: Org, since: datetime, until: datetime) -> list[SeatLedger]:
    rows = conn.execute(
        select(
            handoffs.c.to_seat,
            handoffs.c.created_at,
            handoffs.c.resolved_at,
            handoffs.c.outcome,
            handoffs.c.overdue_event_id,
        ).where(handoffs.c.created_at >= since, handoffs.c.created_at < until)
    ).all()
    humans = [s.id for s in org.seats.values() if s.kind == "human" and s.status == "active"]
    seats = [*humans, *sorted({r.to_seat for r in rows} - set(humans))]
    result = []
    for seat_id in seats:
        mine = [r for r in rows if r.to_seat == seat_id]
        answers = [(r.resolved_at - r.created_at).total_seconds() for r in mine if r.resolved_at]
        result.append(
            SeatLedger(
                seat_id=seat_id,
                received=len(mine),
                answered=len(answers),
                returned=sum(1 for r in mine if r.outcome == "return"),
                open=sum(1 for r in mine if r.resolved_at is None),
                overdue=sum(1 for r in mine if r.overdue_event_id is not None),
                median_answer_seconds=statistics.median(answers) if answers else None,
                worst_answer_seconds=max(answers) if answers else None,
            )
        )
    return result
