"""Seat health from the stored history: a seat whose process broke from a seat running on empty.

Two different things look alike on a dashboard (a seat produces nothing useful) and need
opposite answers:

- **broken**: a run of one of its processes failed, waits for a person, was stopped, or its
  workers all died. The work is there and the seat is needed: it needs recovery.
- **on empty**: the seat keeps running but nothing is routed to it. Its latest runs got no
  records or ended with none done, several times in a row; no run of a process declared for
  days; an output of it kept the same content for days (its timestamp moving or not); or its
  runs keep needing a person to correct them. It is a candidate for a retirement hearing.

The thresholds are declared (``health:`` at the top of org.yaml or on a seat, see
:class:`orgplane.org.models.HealthRules`). :func:`load_facts` reads what the rules need in one
read transaction; :func:`judge_seat` is pure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, or_, select

from orgplane.org.durations import format_duration
from orgplane.org.models import HealthRules, Org
from orgplane.runs.statements import Checkpoint, RecordState, RunState
from orgplane.store.tables import (
    processes,
    publishes,
    run_checkpoints,
    run_records,
    runs,
    watch_states,
)

Vitality = Literal["ok", "on_empty", "broken", "retired"]

BROKEN_RUN_STATES = frozenset({RunState.FAILED, RunState.HELD, RunState.STOPPED})
"""Stored run states that mean a process broke: the work is there, it needs recovery."""

CORRECTED_CHECKPOINTS = frozenset({Checkpoint.HELD, Checkpoint.IN_DOUBT})
MANUAL_WORKER = "checkpoint"
"""The worker name ``orgplane checkpoint`` writes: a person (or a script) corrected the record."""


@dataclass(frozen=True)
class RunFacts:
    """One run as the rules see it: how many records it got and how many ended done."""

    run_id: str
    process_id: str
    status: str
    created_at: datetime
    records_total: int
    records_done: int
    stopped_record: str | None = None
    stopped_stage: str | None = None
    error: Any = None

    @property
    def empty(self) -> bool:
        """A finished run that got no records, or that ended with none of them done."""
        return self.status == RunState.FINISHED and (
            self.records_total == 0 or self.records_done == 0
        )


@dataclass(frozen=True)
class ProcessFacts:
    """A process's latest runs (newest first), its corrected runs within the window, whether a
    run of it is stalled (every worker dead), and when it was first declared."""

    process_id: str
    latest: list[RunFacts]
    corrected: list[str]
    stalled: list[str]
    declared_at: datetime | None
    last_run_at: datetime | None


@dataclass(frozen=True)
class OutputFacts:
    """Since when an output's content has not changed, and across how many updates."""

    output_id: str
    unchanged_since: datetime | None
    updates: int
    status: str | None


@dataclass(frozen=True)
class Evidence:
    """One finding about a seat: what it is about, what was seen, since when, which runs."""

    kind: str
    subject_kind: str
    subject_id: str
    message: str
    since: datetime | None = None
    runs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SeatVitality:
    """A seat's verdict (``broken`` wins over ``on_empty``: a broken process is not idle) and
    the evidence for each, with the thresholds it was judged by and what to do next."""

    seat: str
    status: Vitality
    broken: list[Evidence]
    empty: list[Evidence]
    rules: HealthRules
    next_step: str


def load_facts(
    conn: Connection, org: Org, now: datetime, stalled: Collection[str] = ()
) -> tuple[dict[str, ProcessFacts], dict[str, OutputFacts]]:
    """What the rules need of every process and output of the org's active seats, read inside
    the caller's transaction. ``stalled`` are the ids of runs whose workers all died
    (:func:`orgplane.runs.stalls.find_stalls`)."""
    stalled_set = set(stalled)
    declared = dict(
        conn.execute(
            select(processes.c.id, processes.c.first_declared_at).where(
                processes.c.id.in_(list(org.processes))
            )
        ).all()
    )
    process_facts: dict[str, ProcessFacts] = {}
    for process in org.processes.values():
        if org.seats[process.seat].status != "active":
            continue
        rules = org.health_rules(process.seat)
        process_facts[process.id] = _process_facts(
            conn, process.id, rules, now, stalled_set, declared.get(process.id)
        )
    output_facts = {
        output.id: _output_facts(conn, output.id)
        for output in org.outputs.values()
        if org.seats[output.producer].status == "active"
    }
    return process_facts, output_facts


def _process_facts(
    conn: Connection,
    process_id: str,
    rules: HealthRules,
    now: datetime,
    stalled: set[str],
    declared_at: datetime | None,
) -> ProcessFacts:
    rows = conn.execute(
        select(runs)
        .where(runs.c.process_id == process_id)
        .order_by(runs.c.created_at.desc(), runs.c.id.desc())
        .limit(rules.empty_runs)
    ).all()
    ids = [row.id for row in rows]
    done: dict[str, int] = {}
    if ids:
        done = {
            run_id: int(count)
            for run_id, count in conn.execute(
                select(run_records.c.run_id, func.count())
                .where(
                    run_records.c.run_id.in_(ids),
                    run_records.c.state == RecordState.DONE.value,
                )
                .group_by(run_records.c.run_id)
            ).all()
        }
    latest = [
        RunFacts(
            run_id=row.id,
            process_id=process_id,
            status=row.status,
            created_at=row.created_at,
            records_total=int(row.records_total),
            records_done=done.get(row.id, 0),
            stopped_record=row.stopped_record,
            stopped_stage=row.stopped_stage,
            error=row.error,
        )
        for row in rows
    ]
    window = now - rules.empty_after
    in_window = select(runs.c.id).where(
        runs.c.process_id == process_id, runs.c.created_at >= window
    )
    corrected_ids = set(
        conn.execute(
            select(run_checkpoints.c.run_id)
            .where(
                run_checkpoints.c.run_id.in_(in_window),
                or_(
                    run_checkpoints.c.status.in_([c.value for c in CORRECTED_CHECKPOINTS]),
                    run_checkpoints.c.worker == MANUAL_WORKER,
                ),
            )
            .distinct()
        ).scalars()
    )
    corrected_ids.update(
        conn.execute(
            select(run_records.c.run_id)
            .where(
                run_records.c.run_id.in_(in_window),
                run_records.c.state == RecordState.HELD.value,
            )
            .distinct()
        ).scalars()
    )
    last_run_at = conn.execute(
        select(func.max(runs.c.created_at)).where(runs.c.process_id == process_id)
    ).scalar()
    running = {f.run_id for f in latest if f.status == RunState.RUNNING}
    return ProcessFacts(
        process_id=process_id,
        latest=latest,
        corrected=sorted(str(i) for i in corrected_ids),
        stalled=sorted(running & stalled),
        declared_at=declared_at,
        last_run_at=last_run_at,
    )


def _output_facts(conn: Connection, output_id: str) -> OutputFacts:
    """The trailing streak of the output's stored contents with the newest one's hash (the
    publishes kept, and the watcher's state for a file, which counts its unchanged updates)."""
    rows = conn.execute(
        select(publishes.c.content_hash, publishes.c.published_at)
        .where(publishes.c.output_id == output_id)
        .order_by(publishes.c.published_at.desc(), publishes.c.id.desc())
    ).all()
    since: datetime | None = None
    updates = 0
    if rows:
        newest = rows[0].content_hash
        for row in rows:
            if row.content_hash != newest:
                break
            since = row.published_at
            updates += 1
    state = conn.execute(
        select(watch_states.c.status, watch_states.c.since, watch_states.c.same_content).where(
            watch_states.c.subject_kind == "output", watch_states.c.subject_id == output_id
        )
    ).first()
    status = None
    if state is not None:
        status = state.status
        if state.status == "frozen" and (since is None or state.since < since):
            since = state.since
            updates = max(updates, int(state.same_content))
    if updates < 2:  # one content seen once has not stayed the same over anything
        since = None
    return OutputFacts(output_id=output_id, unchanged_since=since, updates=updates, status=status)


def judge_seat(
    org: Org,
    seat_id: str,
    process_facts: dict[str, ProcessFacts],
    output_facts: dict[str, OutputFacts],
    now: datetime,
) -> SeatVitality:
    """The seat's verdict from the facts: pure, the same facts give the same verdict."""
    seat = org.seats[seat_id]
    rules = org.health_rules(seat_id)
    if seat.status == "retired":
        return SeatVitality(seat_id, "retired", [], [], rules, "nothing: the seat is retired")
    window = now - rules.empty_after
    days = format_duration(rules.empty_after)
    broken: list[Evidence] = []
    empty: list[Evidence] = []
    for process in org.processes.values():
        facts = process_facts.get(process.id)
        if process.seat != seat_id or facts is None:
            continue
        broken.extend(_broken(facts))
        latest = facts.latest
        if len(latest) >= rules.empty_runs and all(r.empty for r in latest):
            empty.append(
                Evidence(
                    "empty_runs",
                    "process",
                    process.id,
                    f"its last {len(latest)} runs of {process.id} ended empty ({_records(latest)})",
                    since=latest[-1].created_at,
                    runs=[r.run_id for r in latest],
                )
            )
        elif (facts.last_run_at is None or facts.last_run_at < window) and (
            facts.declared_at is not None and facts.declared_at < window
        ):
            last = f"last run {facts.last_run_at:%Y-%m-%d}" if facts.last_run_at else "never run"
            empty.append(
                Evidence(
                    "no_runs",
                    "process",
                    process.id,
                    f"no run of {process.id} for {days} ({last})",
                    since=facts.last_run_at or facts.declared_at,
                )
            )
        if len(facts.corrected) >= rules.corrections:
            empty.append(
                Evidence(
                    "corrections",
                    "process",
                    process.id,
                    f"{len(facts.corrected)} runs of {process.id} within {days} needed a "
                    "person to correct a record (held, in doubt or checkpointed by hand)",
                    runs=list(facts.corrected),
                )
            )
    for output in org.outputs.values():
        out = output_facts.get(output.id)
        if output.producer != seat_id or out is None or out.unchanged_since is None:
            continue
        if out.unchanged_since <= window:
            empty.append(
                Evidence(
                    "unchanged_output",
                    "output",
                    output.id,
                    f"output {output.id} has had the same content since "
                    f"{out.unchanged_since:%Y-%m-%d %H:%M} UTC ({out.updates} updates, "
                    f"at least {days})",
                    since=out.unchanged_since,
                )
            )
    if broken:
        status: Vitality = "broken"
        runs_to_resume = dict.fromkeys(run for e in broken for run in e.runs)
        step = "recover it: " + "; ".join(f"orgplane run resume {r}" for r in runs_to_resume)
    elif empty:
        status = "on_empty"
        step = f"open a retirement hearing: orgplane hearing open {seat_id}"
    else:
        status = "ok"
        step = "nothing"
    return SeatVitality(seat_id, status, broken, empty, rules, step)


def _broken(facts: ProcessFacts) -> list[Evidence]:
    found: list[Evidence] = []
    newest = facts.latest[0] if facts.latest else None
    if newest is not None and newest.status in BROKEN_RUN_STATES:
        where = ""
        if newest.stopped_record:
            where = f" at record {newest.stopped_record}"
            if newest.stopped_stage:
                where += f", stage {newest.stopped_stage}"
        why = _error_text(newest.error)
        found.append(
            Evidence(
                "run_" + newest.status,
                "run",
                newest.run_id,
                f"run {newest.run_id} of {facts.process_id} is {newest.status}: "
                f"stopped{where}{why}; resume it with orgplane run resume {newest.run_id}",
                since=newest.created_at,
                runs=[newest.run_id],
            )
        )
    for run_id in facts.stalled:
        found.append(
            Evidence(
                "run_stalled",
                "run",
                run_id,
                f"run {run_id} of {facts.process_id} is stalled: every worker died with "
                f"records left; resume it with orgplane run resume {run_id}",
                runs=[run_id],
            )
        )
    return found


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        message = error.get("message")
        text = " ".join(str(p) for p in (code, message) if p)
        return f" ({text[:200]})" if text else ""
    return f" ({str(error)[:200]})" if error else ""


def _records(latest: list[RunFacts]) -> str:
    parts = [
        "no records" if r.records_total == 0 else f"0 of {r.records_total} done" for r in latest
    ]
    return ", ".join(parts)
