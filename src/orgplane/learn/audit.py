"""The weekly audit: what the COO reads on Monday about the week's failures and learnings.

:func:`weekly_audit` reads incidents, their events and timeline, follow-ups, decisions and the
org's history over a window ``[since, until)`` and returns a :class:`WeeklyAudit`. It only reads.

What "in the window" means, figure by figure (every bound is ``since <= t < until``):

- **incidents** (by seat, by tier, repeats): incidents with at least one failure event (any
  kind but ``recovered``) that *occurred* in the window. An incident first seen last week that
  failed again this week counts (``new`` says which ones first occurred in the window). Its
  ``status`` is the status now, when the audit is made.
- **times to detect / decide / recover**: over the incidents above that *first occurred* in the
  window and have that step (:func:`orgplane.learn.incidents.incident_times`); the median
  (``statistics.median``) and the worst, in seconds.
- **repeats**: incidents of the window that failed more than once (events counted over the
  incident's whole life, drills left out) or that were ever reopened.
- **learnings applied**: incidents whose last close (``closed_at``) is in the window, with
  their learning and change. An incident closed twice in the week shows its last learning; the
  first one is among the learnings that did not hold (its reopening).
- **learnings that did not hold**: each reopening (a ``reopened`` step of the timeline) stored in
  the window, with the learning it proved wrong.
- **follow-ups overdue**: not done by the end of the window and due before it, whenever made.
- **decisions past their deadline**: open at the end of the window (open now, or closed after
  it), deadline before the end, and not silenced by an acknowledgement at that moment (never
  acknowledged, acknowledged after the end, or acknowledged until before the end); whenever
  they were decided.
- **org changes**: org syncs made in the window, each with its cause and its item changes.

Drills never count: an event whose ``details`` carry ``drill`` is left out of every figure, and
an incident or decision whose first event is a drill's is left out whole.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, and_, bindparam, or_, select

from orgplane.learn.incidents import incident_times
from orgplane.org.models import Org
from orgplane.store.tables import (
    decisions,
    events,
    follow_ups,
    incident_steps,
    incidents,
    org_changes,
    org_syncs,
)

__all__ = [
    "WEEK",
    "AuditCounts",
    "AuditIncident",
    "DecisionLate",
    "FollowUpOverdue",
    "GroupCount",
    "LearningApplied",
    "LearningNotHeld",
    "OrgChange",
    "OrgSyncView",
    "StepTimes",
    "WeeklyAudit",
    "is_drill",
    "weekly_audit",
]

WEEK = timedelta(days=7)
"""The audit's default window: the seven days before its end."""

Step = Literal["detect", "decide", "recover"]
_STEPS: tuple[Step, ...] = ("detect", "decide", "recover")

_CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupCount(_Frozen):
    """Incidents of the window in one group (a seat or a tier)."""

    key: str
    label: str | None = None
    incidents: int
    open: int
    closed: int
    new: int
    events: int


class StepTimes(_Frozen):
    """One response time (detect, decide or recover) over the incidents that have it."""

    step: Step
    incidents: int
    median_seconds: float | None
    worst_seconds: float | None
    worst_incident: int | None


class AuditIncident(_Frozen):
    """An incident of the window, as the audit lists it."""

    id: int
    seat_id: str | None
    subject_kind: str
    subject_id: str
    kind: str
    tier: str | None
    status: str
    occurred_at: datetime
    new: bool
    events: int
    events_in_window: int
    reopened: int


class LearningApplied(_Frozen):
    """An incident closed in the window with its learning and the change it made."""

    incident_id: int
    seat_id: str | None
    subject_kind: str
    subject_id: str
    kind: str
    closed_at: datetime
    closed_by: str | None
    learning: str | None
    change_kind: str | None
    change: dict[str, Any] | None
    held: bool | None


class LearningNotHeld(_Frozen):
    """A reopening in the window: the signature came back after its incident was closed."""

    incident_id: int
    seat_id: str | None
    subject_kind: str
    subject_id: str
    kind: str
    reopened_at: datetime
    learning: str | None
    status: str


class FollowUpOverdue(_Frozen):
    """A follow-up not done by the end of the window and due before it."""

    id: int
    incident_id: int
    text: str
    owner: str
    due: datetime
    overdue_seconds: float
    nags: int


class DecisionLate(_Frozen):
    """A decision still open at the end of the window, past its deadline, not silenced."""

    id: int
    seat_id: str | None
    subject_kind: str
    subject_id: str
    kind: str
    tier: str | None
    action: str
    notify: str | None
    holder: str | None
    decided_at: datetime
    deadline: datetime
    late_seconds: float
    acked_until: datetime | None


class OrgChange(_Frozen):
    """One item one sync changed; ``fields`` are the declared keys an update touched."""

    entity: str
    entity_id: str
    change: str
    fields: list[str]


class OrgSyncView(_Frozen):
    """One change of the org in the window: when, why (``cause`` NULL: an edit by hand), who."""

    id: int
    at: datetime
    cause: str | None
    incident_id: int | None
    actor: str | None
    changes: list[OrgChange]


class AuditCounts(_Frozen):
    """The headline figures of the week."""

    incidents: int
    new: int
    open: int
    closed: int
    events: int
    repeats: int
    learnings_applied: int
    learnings_not_held: int
    follow_ups_overdue: int
    decisions_late: int
    org_changes: int


class WeeklyAudit(_Frozen):
    """The weekly audit of ``[since, until)`` (see the module docstring for each figure)."""

    org: str
    since: datetime
    until: datetime
    counts: AuditCounts
    by_seat: list[GroupCount]
    by_tier: list[GroupCount]
    times: list[StepTimes]
    incidents: list[AuditIncident]
    repeats: list[AuditIncident]
    learnings_applied: list[LearningApplied]
    learnings_not_held: list[LearningNotHeld]
    follow_ups_overdue: list[FollowUpOverdue]
    decisions_late: list[DecisionLate]
    org_changes: list[OrgSyncView]
    # HOOK(delegation): the delegation ledger's "not really delegated" flags
    # (learn/delegation.delegation_ledger(conn, org, since, until)) join the audit here. None
    # means the ledger is not wired in yet; renderers say so rather than print an empty list.
    not_really_delegated: list[dict[str, Any]] | None = None


def is_drill(details: Any) -> bool:
    """Whether an event's ``details`` mark it as a drill's (never counted)."""
    return isinstance(details, dict) and bool(details.get("drill"))


def weekly_audit(conn: Connection, org: Org, *, since: datetime, until: datetime) -> WeeklyAudit:
    """The audit of the window ``[since, until)`` read in one transaction ``conn``.

    Guarantees: drills are left out of every figure; each figure uses the window as the module
    docstring says; lists are ordered (incidents by when they occurred, the rest by time)."""
    window = _window_incidents(conn, since, until)
    rows = window.rows
    listed = [
        _incident(rows[i], since, window.in_window[i], window.lifetime[i])
        for i in sorted(window.in_window, key=lambda i: (rows[i]["occurred_at"], i))
    ]
    repeats = [i for i in listed if i.events > 1 or i.reopened > 0]
    applied = _learnings_applied(conn, since, until, window.drill_incidents)
    not_held = _learnings_not_held(conn, since, until)
    overdue = _follow_ups_overdue(conn, until)
    late = _decisions_late(conn, until)
    changes = _org_changes(conn, since, until)
    counts = AuditCounts(
        incidents=len(listed),
        new=sum(i.new for i in listed),
        open=sum(i.status == "open" for i in listed),
        closed=sum(i.status == "closed" for i in listed),
        events=sum(i.events_in_window for i in listed),
        repeats=len(repeats),
        learnings_applied=len(applied),
        learnings_not_held=len(not_held),
        follow_ups_overdue=len(overdue),
        decisions_late=len(late),
        org_changes=sum(len(s.changes) for s in changes),
    )
    seat_titles = {s.id: s.title for s in org.seats.values()}
    tier_labels: dict[str, str] = {t: str(tier.action) for t, tier in org.urgency.items()}
    return WeeklyAudit(
        org=org.name,
        since=since,
        until=until,
        counts=counts,
        by_seat=_groups(listed, lambda i: i.seat_id or "-", seat_titles),
        by_tier=_groups(listed, lambda i: i.tier or "(none)", tier_labels),
        times=_times([rows[i.id] for i in listed if i.new]),
        incidents=listed,
        repeats=repeats,
        learnings_applied=applied,
        learnings_not_held=not_held,
        follow_ups_overdue=overdue,
        decisions_late=late,
        org_changes=changes,
        not_really_delegated=_delegation(conn, org, since, until),
    )


def _delegation(
    conn: Connection, org: Org, since: datetime, until: datetime
) -> list[dict[str, Any]] | None:
    """HOOK(delegation): return the delegation ledger's "not really delegated" flags of the
    window once ``learn/delegation.py`` exists (the integrator wires it); None until then."""
    del conn, org, since, until
    return None


class _Window:
    """The incidents of the window: rows by id, failure events counted in and over all time."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        self.in_window: Counter[int] = Counter()
        self.lifetime: Counter[int] = Counter()
        self.drill_incidents: set[int] = set()


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _window_incidents(conn: Connection, since: datetime, until: datetime) -> _Window:
    found = _Window()
    failures = and_(events.c.kind != "recovered", events.c.incident_id.is_not(None))
    for event in conn.execute(
        select(events.c.incident_id, events.c.details).where(
            failures, events.c.occurred_at >= since, events.c.occurred_at < until
        )
    ):
        if not is_drill(event.details):
            found.in_window[int(event.incident_id)] += 1
    first = events.alias("first_event")
    rows_query = (
        select(incidents, first.c.details.label("first_details"))
        .select_from(incidents.join(first, first.c.id == incidents.c.first_event_id))
        .where(incidents.c.id.in_(bindparam("ids", expanding=True)))
    )
    lifetime_query = select(events.c.incident_id, events.c.details).where(
        failures, events.c.incident_id.in_(bindparam("ids", expanding=True))
    )
    for chunk in _chunks(found.in_window):
        for row in conn.execute(rows_query, {"ids": chunk}):
            data = dict(row._mapping)
            if is_drill(data.pop("first_details")):
                found.drill_incidents.add(int(data["id"]))
            else:
                found.rows[int(data["id"])] = data
        for event in conn.execute(lifetime_query, {"ids": chunk}):
            if not is_drill(event.details):
                found.lifetime[int(event.incident_id)] += 1
    for drill in found.drill_incidents:
        del found.in_window[drill]
    return found


def _incident(row: dict[str, Any], since: datetime, in_window: int, lifetime: int) -> AuditIncident:
    return AuditIncident(
        id=row["id"],
        seat_id=row["seat_id"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        kind=row["kind"],
        tier=row["tier"],
        status=row["status"],
        occurred_at=row["occurred_at"],
        new=row["occurred_at"] >= since,
        events=lifetime,
        events_in_window=in_window,
        reopened=row["reopened"],
    )


def _groups(
    listed: list[AuditIncident],
    key_of: Callable[[AuditIncident], str],
    labels: dict[str, str],
) -> list[GroupCount]:
    grouped: dict[str, list[AuditIncident]] = {}
    for incident in listed:
        grouped.setdefault(key_of(incident), []).append(incident)
    counts = [
        GroupCount(
            key=key,
            label=labels.get(key),
            incidents=len(items),
            open=sum(i.status == "open" for i in items),
            closed=sum(i.status == "closed" for i in items),
            new=sum(i.new for i in items),
            events=sum(i.events_in_window for i in items),
        )
        for key, items in grouped.items()
    ]
    return sorted(counts, key=lambda g: (-g.incidents, g.key))


def _times(rows: list[dict[str, Any]]) -> list[StepTimes]:
    measured: dict[str, list[tuple[timedelta, int]]] = {step: [] for step in _STEPS}
    for row in rows:
        for step, took in incident_times(row).items():
            if took is not None:
                measured[step].append((took, int(row["id"])))
    result = []
    for step in _STEPS:
        values = measured[step]
        seconds = [took.total_seconds() for took, _ in values]
        # The worst is the longest; of equal ones, the incident that came first.
        worst = max(values, key=lambda v: (v[0], -v[1])) if values else None
        result.append(
            StepTimes(
                step=step,
                incidents=len(values),
                median_seconds=statistics.median(seconds) if seconds else None,
                worst_seconds=worst[0].total_seconds() if worst else None,
                worst_incident=worst[1] if worst else None,
            )
        )
    return result


def _first_drills(conn: Connection, incident_ids: Iterable[int]) -> set[int]:
    """The incidents among ``incident_ids`` whose first event is a drill's."""
    first = events.alias("first_event")
    query = (
        select(incidents.c.id, first.c.details)
        .select_from(incidents.join(first, first.c.id == incidents.c.first_event_id))
        .where(incidents.c.id.in_(bindparam("ids", expanding=True)))
    )
    drills: set[int] = set()
    for chunk in _chunks(incident_ids):
        drills |= {int(r.id) for r in conn.execute(query, {"ids": chunk}) if is_drill(r.details)}
    return drills


def _learnings_applied(
    conn: Connection, since: datetime, until: datetime, known_drills: set[int]
) -> list[LearningApplied]:
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(incidents)
            .where(incidents.c.closed_at >= since, incidents.c.closed_at < until)
            .order_by(incidents.c.closed_at, incidents.c.id)
        )
    ]
    drills = known_drills | _first_drills(conn, [r["id"] for r in rows])
    applied = []
    for row in rows:
        if row["id"] in drills:
            continue
        change = row["change"] if isinstance(row["change"], dict) else None
        applied.append(
            LearningApplied(
                incident_id=row["id"],
                seat_id=row["seat_id"],
                subject_kind=row["subject_kind"],
                subject_id=row["subject_id"],
                kind=row["kind"],
                closed_at=row["closed_at"],
                closed_by=row["closed_by"],
                learning=row["learning"],
                change_kind=str(change["kind"]) if change and "kind" in change else None,
                change=change,
                held=row["learning_held"],
            )
        )
    return applied


def _learnings_not_held(
    conn: Connection, since: datetime, until: datetime
) -> list[LearningNotHeld]:
    query = (
        select(
            incident_steps.c.incident_id,
            incident_steps.c.at,
            incident_steps.c.detail,
            incident_steps.c.event_id,
            incidents.c.seat_id,
            incidents.c.subject_kind,
            incidents.c.subject_id,
            incidents.c.kind,
            incidents.c.status,
            incidents.c.first_event_id,
        )
        .select_from(incident_steps.join(incidents, incidents.c.id == incident_steps.c.incident_id))
        .where(
            incident_steps.c.step == "reopened",
            incident_steps.c.at >= since,
            incident_steps.c.at < until,
        )
        .order_by(incident_steps.c.at, incident_steps.c.id)
    )
    rows = [dict(r._mapping) for r in conn.execute(query)]
    event_ids = {r["event_id"] for r in rows if r["event_id"] is not None}
    event_ids |= {r["first_event_id"] for r in rows}
    drills = _drill_events(conn, event_ids)
    return [
        LearningNotHeld(
            incident_id=r["incident_id"],
            seat_id=r["seat_id"],
            subject_kind=r["subject_kind"],
            subject_id=r["subject_id"],
            kind=r["kind"],
            reopened_at=r["at"],
            learning=(r["detail"] or {}).get("learning"),
            status=r["status"],
        )
        for r in rows
        if r["event_id"] not in drills and r["first_event_id"] not in drills
    ]


def _drill_events(conn: Connection, event_ids: Iterable[int]) -> set[int]:
    query = select(events.c.id, events.c.details).where(
        events.c.id.in_(bindparam("ids", expanding=True))
    )
    drills: set[int] = set()
    for chunk in _chunks(event_ids):
        drills |= {int(r.id) for r in conn.execute(query, {"ids": chunk}) if is_drill(r.details)}
    return drills


def _follow_ups_overdue(conn: Connection, until: datetime) -> list[FollowUpOverdue]:
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(follow_ups)
            .where(
                follow_ups.c.due < until,
                or_(follow_ups.c.done_at.is_(None), follow_ups.c.done_at >= until),
            )
            .order_by(follow_ups.c.due, follow_ups.c.id)
        )
    ]
    drills = _first_drills(conn, {r["incident_id"] for r in rows})
    return [
        FollowUpOverdue(
            id=r["id"],
            incident_id=r["incident_id"],
            text=r["text"],
            owner=r["owner"],
            due=r["due"],
            overdue_seconds=(until - r["due"]).total_seconds(),
            nags=r["nags"],
        )
        for r in rows
        if r["incident_id"] not in drills
    ]


def _decisions_late(conn: Connection, until: datetime) -> list[DecisionLate]:
    first = events.alias("first_event")
    query = (
        select(decisions, first.c.details.label("first_details"))
        .select_from(decisions.join(first, first.c.id == decisions.c.first_event_id))
        .where(
            decisions.c.deadline < until,
            or_(decisions.c.status == "open", decisions.c.closed_at >= until),
        )
        .order_by(decisions.c.deadline, decisions.c.id)
    )
    late = []
    for row in conn.execute(query):
        data = dict(row._mapping)
        if is_drill(data["first_details"]):
            continue
        silenced = (
            data["acked_at"] is not None
            and data["acked_at"] < until
            and data["acked_until"] is not None
            and data["acked_until"] > until
        )
        if silenced:
            continue
        acked_until = data["acked_until"] if data["acked_at"] and data["acked_at"] < until else None
        late.append(
            DecisionLate(
                id=data["id"],
                seat_id=data["seat_id"],
                subject_kind=data["subject_kind"],
                subject_id=data["subject_id"],
                kind=data["kind"],
                tier=data["tier"],
                action=data["action"],
                notify=data["notify"],
                holder=data["holder"],
                decided_at=data["decided_at"],
                deadline=data["deadline"],
                late_seconds=(until - data["deadline"]).total_seconds(),
                acked_until=acked_until,
            )
        )
    return late


def _org_changes(conn: Connection, since: datetime, until: datetime) -> list[OrgSyncView]:
    syncs = [
        dict(r._mapping)
        for r in conn.execute(
            select(org_syncs)
            .where(org_syncs.c.at >= since, org_syncs.c.at < until)
            .order_by(org_syncs.c.at, org_syncs.c.id)
        )
    ]
    items: dict[int, list[OrgChange]] = {s["id"]: [] for s in syncs}
    query = (
        select(org_changes)
        .where(org_changes.c.sync_id.in_(bindparam("ids", expanding=True)))
        .order_by(org_changes.c.id)
    )
    for chunk in _chunks(items):
        for row in conn.execute(query, {"ids": chunk}):
            items[row.sync_id].append(
                OrgChange(
                    entity=row.entity,
                    entity_id=row.entity_id,
                    change=row.change,
                    fields=_changed_fields(row.before, row.after),
                )
            )
    return [
        OrgSyncView(
            id=s["id"],
            at=s["at"],
            cause=s["cause"],
            incident_id=s["incident_id"],
            actor=s["actor"],
            changes=items[s["id"]],
        )
        for s in syncs
    ]


def _changed_fields(before: Any, after: Any) -> list[str]:
    """The top-level declared keys that differ between two versions of an item."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
