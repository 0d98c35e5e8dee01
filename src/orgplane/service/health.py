"""Use cases of seat health: what state each seat of the chart is in now, and one seat in full.

Health is read, never recorded: the watched subjects are classified as ``check`` would classify
them (their files read, the store's history consulted) but nothing is written, so a dashboard
or an MCP client asking every few seconds changes nothing. A seat is

- ``retired`` when the org file retires it;
- ``failing`` when something it produces is broken (corrupt, invalid, missing, frozen), a
  scheduled push or job of its was missed or failed, or the latest run of one of its processes
  stopped or waits for a person;
- ``stale`` when something it produces is only old;
- ``fresh`` otherwise (a seat that produces nothing watched is fresh: nothing of it is late).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from orgplane.service.decisions import DecisionView
from orgplane.service.models import Result
from orgplane.service.runs import RunSummary
from orgplane.service.session import Session
from orgplane.service.watch import FindingView

Health = Literal["fresh", "stale", "failing", "retired"]

STALE_STATUSES = frozenset({"stale"})
"""Finding statuses that make a seat stale: its data is only old."""

FAILING_STATUSES = frozenset({"corrupt", "invalid", "missing", "frozen", "missed", "failed"})
"""Finding statuses that make a seat failing: its data is broken or a push or job did not come."""

FAILING_RUN_STATES = frozenset({"failed", "paused", "held", "stopped"})
"""Run states that make a seat failing (the latest run of one of its processes)."""


class SeatHealth(Result):
    """One seat's health and why, in words, worst first (``reasons`` empty when fresh)."""

    seat: str
    kind: Literal["human", "agent"]
    health: Health
    reasons: list[str]
    uncovered_outputs: list[str]
    """Outputs of the seat whose failure response is not written down (nobody reads them with
    a coverage protocol, or a critical one has no coverage seat)."""


class HealthReport(Result):
    """Every seat's health at ``at``, in the org file's order, and how many are in each state."""

    at: datetime
    seats: list[SeatHealth]
    counts: dict[str, int]


def seat_health(session: Session, *, now: datetime | None = None) -> HealthReport:
    """The health of every seat now (see the module's rules); reads files and the store,
    writes nothing."""
    from orgplane.store.types import utcnow

    at = now or utcnow()
    findings = _findings(session, at)
    latest = _latest_runs(session)
    uncovered = _uncovered(session)
    seats = [
        _health(session, seat_id, findings, latest, uncovered) for seat_id in session.org().seats
    ]
    counts = {state: 0 for state in ("fresh", "stale", "failing", "retired")}
    for item in seats:
        counts[item.health] += 1
    return HealthReport(at=at, seats=seats, counts=counts)


class EventView(Result):
    """One failure event, as stored."""

    id: int
    kind: str
    occurred_at: datetime
    subject_kind: str
    subject_id: str
    run_id: str | None
    stage: str | None
    visible: bool
    message: str


class SeatOutput(Result):
    """An output the seat produces: who reads it with which protocol, and its state now."""

    id: str
    description: str | None
    critical: bool
    coverage_seat: str | None
    consumers: dict[str, str]
    has_coverage: bool
    finding: FindingView | None


class SeatInput(Result):
    """An output the seat reads, with the coverage protocol it applies when it is not fresh."""

    output: str
    producer: str | None
    protocol: str
    escalate_to: str | None


class SeatProcess(Result):
    """A process of the seat and its most recent runs, newest first."""

    id: str
    description: str | None
    stages: list[str]
    runs: list[RunSummary]


class SeatDetail(Result):
    """One seat in full: what it is, its health, what it produces and reads, its processes and
    their runs, its recent events, the open decisions about it, and its effective SOPs (its own
    and those inherited from the human seats above it)."""

    id: str
    title: str
    kind: Literal["human", "agent"]
    holder: str | None
    owner: str | None
    reports_to: str | None
    reports: list[str]
    status: Literal["active", "retired"]
    capabilities: list[str]
    redistributed: dict[str, str]
    health: SeatHealth
    outputs: list[SeatOutput]
    inputs: list[SeatInput]
    processes: list[SeatProcess]
    events: list[EventView]
    decisions: list[DecisionView]
    sops: list[str]


def show_seat(
    session: Session, seat_id: str, *, events: int = 20, runs: int = 5, now: datetime | None = None
) -> SeatDetail:
    """One seat with everything about it (at most ``events`` recent events and ``runs`` runs a
    process); NotFoundError for a seat the org file does not declare. Writes nothing."""
    from sqlalchemy import select

    from orgplane.org.chart import seat_outputs
    from orgplane.org.lookup import find_declared
    from orgplane.service.decisions import list_decisions
    from orgplane.service.runs import list_runs
    from orgplane.store.tables import events as events_table
    from orgplane.store.types import utcnow

    org = session.org()
    seat = find_declared(org.seats, "seat", seat_id)
    at = now or utcnow()
    findings = _findings(session, at)
    latest = _latest_runs(session)
    by_output = {f.subject_id: f for f in findings.get(seat_id, []) if f.subject_kind == "output"}
    outputs = [
        SeatOutput(
            description=org.outputs[o["id"]].description,
            finding=by_output.get(o["id"]),
            **o,
        )
        for o in seat_outputs(org, seat_id)
    ]
    inputs = [
        SeatInput(
            output=output_id,
            producer=org.outputs[output_id].producer if output_id in org.outputs else None,
            protocol=protocol.protocol,
            escalate_to=protocol.escalate_to,
        )
        for output_id, protocol in seat.inputs.items()
    ]
    processes = [
        SeatProcess(
            id=p.id,
            description=p.description,
            stages=[s.name for s in p.stages],
            runs=list_runs(session, process_id=p.id, limit=runs).runs,
        )
        for p in org.processes.values()
        if p.seat == seat_id
    ]
    with session.store().read() as conn:
        rows = conn.execute(
            select(events_table)
            .where(events_table.c.seat_id == seat_id)
            .order_by(events_table.c.occurred_at.desc(), events_table.c.id.desc())
            .limit(events)
        ).all()
    recent = [
        EventView.model_validate({k: row._mapping[k] for k in EventView.model_fields})
        for row in rows
    ]
    decisions = [d for d in list_decisions(session).decisions if d.seat_id == seat_id]
    return SeatDetail(
        id=seat.id,
        title=seat.title,
        kind=seat.kind,
        holder=seat.holder,
        owner=seat.owner,
        reports_to=seat.reports_to,
        reports=[s.id for s in org.seats.values() if s.reports_to == seat_id],
        status=seat.status,
        capabilities=list(seat.capabilities),
        redistributed=dict(seat.retired.redistributed) if seat.retired else {},
        health=_health(session, seat_id, findings, latest, _uncovered(session)),
        outputs=outputs,
        inputs=inputs,
        processes=processes,
        events=recent,
        decisions=decisions,
        sops=list(org.effective_sops(seat_id)),
    )


def _findings(session: Session, at: datetime) -> dict[str, list[FindingView]]:
    """Every watched subject classified at ``at``, by seat; nothing recorded."""
    found: dict[str, list[FindingView]] = {}
    for finding in current_findings(session, now=at).findings:
        if finding.seat is not None:
            found.setdefault(finding.seat, []).append(finding)
    return found


def _latest_runs(session: Session) -> dict[str, dict[str, Any]]:
    """The latest run of each process, by process id."""
    from orgplane.runs.status import list_runs as read_runs

    latest: dict[str, dict[str, Any]] = {}
    for process_id in session.org().processes:
        rows = read_runs(session.store(), process_id=process_id, limit=1)
        if rows:
            latest[process_id] = rows[0]
    return latest


def _uncovered(session: Session) -> dict[str, list[str]]:
    """The outputs whose failure response is not written down, by producing seat: read off
    the chart, built once for the whole org (not an index a seat)."""
    from orgplane.org.chart import chart_data

    found: dict[str, list[str]] = {}
    pending = list(chart_data(session.org())["seats"])
    while pending:
        seat = pending.pop()
        pending.extend(seat["reports"])
        missing = [o["id"] for o in seat["outputs"] if not o["has_coverage"]]
        if missing:
            found[seat["id"]] = missing
    return found


def _health(
    session: Session,
    seat_id: str,
    findings: dict[str, list[FindingView]],
    latest: dict[str, dict[str, Any]],
    uncovered_by_seat: dict[str, list[str]],
) -> SeatHealth:
    org = session.org()
    seat = org.seats[seat_id]
    uncovered = uncovered_by_seat.get(seat_id, [])
    if seat.status == "retired":
        return SeatHealth(
            seat=seat_id,
            kind=seat.kind,
            health="retired",
            reasons=["retired"],
            uncovered_outputs=uncovered,
        )
    failing: list[str] = []
    stale: list[str] = []
    for finding in findings.get(seat_id, []):
        line = f"{finding.subject_kind} {finding.subject_id} is {finding.status}: {finding.reason}"
        if finding.status in FAILING_STATUSES:
            failing.append(line)
        elif finding.status in STALE_STATUSES:
            stale.append(line)
    for process in org.processes.values():
        run = latest.get(process.id)
        if process.seat == seat_id and run and run["state"] in FAILING_RUN_STATES:
            failing.append(f"run {run['run_id']} of {process.id} is {run['state']}")
    health: Health = "failing" if failing else "stale" if stale else "fresh"
    return SeatHealth(
        seat=seat_id,
        kind=seat.kind,
        health=health,
        reasons=failing + stale,
        uncovered_outputs=uncovered,
    )


class Findings(Result):
    """Every watched subject's state now, as ``check`` would find it, nothing recorded: ``ok``
    when all are fresh or up; ``counts`` by status; the findings not ok first."""

    ok: bool
    checked_at: datetime
    counts: dict[str, int]
    findings: list[FindingView]


def current_findings(
    session: Session, *, now: datetime | None = None, not_ok_only: bool = False
) -> Findings:
    """The check results now without a check pass: each output, schedule, metric and heartbeat
    classified from its file and the store's history, nothing written (``check`` records the
    transitions; a page or a tool asking often should not). ``not_ok_only`` keeps only the
    findings not ok (outputs not fresh, ...); ``ok`` and ``counts`` still cover every one."""
    from orgplane.store.types import utcnow
    from orgplane.watch.check import evaluate
    from orgplane.watch.state import load_org_snapshot

    at = now or utcnow()
    org = session.org()
    with session.store().read() as conn:
        snap = load_org_snapshot(conn, org, at)
    views = [FindingView.model_validate(f.as_dict()) for f in evaluate(org, snap, at)]
    counts: dict[str, int] = {}
    for view in views:
        counts[view.status] = counts.get(view.status, 0) + 1
    views.sort(key=lambda v: v.ok)
    shown = [v for v in views if not v.ok] if not_ok_only else views
    return Findings(ok=all(v.ok for v in views), checked_at=at, counts=counts, findings=shown)
