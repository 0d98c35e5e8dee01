"""What the watcher remembers in the store: loading a snapshot in one read, and saving a pass's
findings in one write transaction that records each state transition exactly once.

Saving takes a PostgreSQL advisory lock and re-reads, inside the transaction, the status of
every subject the pass would move, so two watchers on one database serialise their writes and
the second sees the first's transitions as already made (SQLite serialises on ``BEGIN
IMMEDIATE``). Dedupe keys on the events make a repeat a no-op as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)

from orgplane.org.models import Org
from orgplane.respond.events import EventKind, FailureEvent, SubjectKind, record_events
from orgplane.store.tables import metric_values, pings, publishes, watch_states, watch_transitions
from orgplane.watch.inspect import OK_STATUSES, Finding, Prior
from orgplane.watch.schedules import window_start

WATCH_LOCK = 0x6F727761746368  # any fixed number: serialises the writes of several watchers
HISTORY = timedelta(days=8)
"""How far back the pings of a subject count (a weekly cron needs a week)."""
SUMMARY_SPAN = timedelta(days=1)
"""A pass aggregates the pings of at least this last day (or the schedules' window, if
longer); a process quiet for longer is looked up on its own, a schedule's older last push is
in its stored state."""

_EVENT_KIND = {"missed": "missed_run", "failed": "missed_run"}
_EVENT_SUBJECT: dict[str, SubjectKind] = {
    "output": "output",
    "schedule": "output",
    "metric": "metric",
    "heartbeat": "heartbeat",
}


@dataclass
class Published:
    """The latest content published for an output."""

    published_at: datetime
    content: bytes
    repeats: int


@dataclass(frozen=True, slots=True)
class PingSummary:
    """One kind of ping of one subject over the last :data:`HISTORY`: the latest and how many."""

    last_at: datetime
    count: int


@dataclass
class Snapshot:
    """Everything one pass needs from the store, read in one transaction.

    ``pings`` holds each push (every ping but a start) of the outputs and of the scheduled
    heartbeats since the schedules' window opened (today's slots, the latest slot); ``summary``
    the latest ping of each kind of every subject over :data:`HISTORY`, which is all a
    heartbeat's status and a schedule's last push need. A week of hourly jobs is then a few
    rows a job, not a row a ping.
    """

    priors: dict[tuple[str, str], Prior] = field(default_factory=dict)
    published: dict[str, Published] = field(default_factory=dict)
    pings: dict[tuple[str, str], list[tuple[str, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    summary: dict[tuple[str, str], dict[str, PingSummary]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    values: dict[str, list[tuple[datetime, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def pushes(self, subject_kind: str, subject_id: str, kinds: Collection[str]) -> list[datetime]:
        """The push times of a subject known to this pass: those since the schedules' window
        opened and the latest of each of ``kinds`` before it."""
        times = [at for kind, at in self.pings.get((subject_kind, subject_id), []) if kind in kinds]
        summary = self.summary.get((subject_kind, subject_id), {})
        times += [summary[kind].last_at for kind in kinds if kind in summary]
        return times

    def last(self, subject_kind: str, subject_id: str, kind: str) -> datetime | None:
        """The latest ping of ``kind`` of a subject in the last :data:`HISTORY`."""
        found = self.summary.get((subject_kind, subject_id), {}).get(kind)
        return found.last_at if found else None


def load_org_snapshot(
    conn: Connection, org: Org, now: datetime, *, with_content: bool = True
) -> Snapshot:
    """The snapshot a pass over ``org`` at ``now`` needs (see :func:`load_snapshot`)."""
    scheduled = {o.id: o.schedule for o in org.outputs.values() if o.schedule}
    scheduled |= {m.id: m.schedule for m in org.metrics.values() if m.schedule}
    return load_snapshot(
        conn,
        now,
        with_content=with_content,
        metric_ids=list(org.metrics),
        scheduled=list(scheduled),
        pushes_from=window_start(scheduled.values(), org.timezone, now),
        heartbeats=list(org.processes),
    )


def load_snapshot(
    conn: Connection,
    now: datetime,
    *,
    with_content: bool = True,
    metric_ids: Collection[str] = (),
    scheduled: Collection[str] = (),
    pushes_from: datetime | None = None,
    heartbeats: Collection[str] = (),
) -> Snapshot:
    """Read states, latest publishes, a summary of the pings, the pushes since ``pushes_from``
    (default: :data:`HISTORY` ago) of outputs and of the heartbeats named in ``scheduled``,
    metric values since then, the latest value of each of ``metric_ids`` however old, and the
    latest ping of each of ``heartbeats`` (and of every heartbeat in the store's state) in the
    last :data:`HISTORY`: a few indexed queries in all, whatever the history."""
    snap = Snapshot()
    states = watch_states.c
    # Times are read as text and parsed with fromisoformat: the generic SQLite DateTime
    # processor is the slowest part of a 10,000-row read. PostgreSQL returns datetimes anyway.
    query = select(
        states.subject_kind,
        states.subject_id,
        states.status,
        type_coerce(states.since, String),
        type_coerce(states.data_at, String),
        states.content_hash,
        states.same_content,
        type_coerce(states.last_good_at, String),
        type_coerce(states.deadline, String),
    )
    for kind, ident, status, since, data_at, digest, same, good, deadline in conn.execute(
        query
    ).all():
        snap.priors[(kind, ident)] = Prior(
            status, _utc(since) or now, _utc(data_at), digest, same, _utc(good), _utc(deadline)
        )
    if with_content:
        for row in conn.execute(latest_publishes_query()):
            snap.published[row.output_id] = Published(row.published_at, row.content, row.repeats)
    since = now - HISTORY
    window = max(pushes_from or since, since)
    summary_from = max(min(window, now - SUMMARY_SPAN), since)
    for kind, ident, what, last_at, count in conn.execute(ping_summary_query(summary_from)):
        snap.summary[(kind, ident)][what] = PingSummary(_utc(last_at) or now, count)
    known = {ident for kind, ident in snap.priors if kind == "heartbeat"} | set(heartbeats)
    quiet_beats = sorted(known - {ident for kind, ident in snap.summary if kind == "heartbeat"})
    for start in range(0, len(quiet_beats), 200):
        seeks = latest_pings_query(quiet_beats[start : start + 200], since)
        for ident, what, at in conn.execute(seeks):
            snap.summary[("heartbeat", ident)][what] = PingSummary(_utc(at) or now, 1)
    wanted = set(scheduled)
    for kind, ident, what, at in conn.execute(recent_pings_query(window)):
        if kind == "output" or ident in wanted:  # a process's heartbeats: the summary has them
            snap.pings[(kind, ident)].append((what, _utc(at) or now))
    for row in conn.execute(recent_values_query(window)):
        snap.values[row.metric_id].append((row.at, row.value))
    # The latest value of a metric however old (the scorecard shows it), for the few with
    # nothing recent: one indexed look-up each, never a scan of the history.
    quiet = sorted(set(metric_ids) - set(snap.values))
    for start in range(0, len(quiet), 200):
        for row in conn.execute(latest_values_query(quiet[start : start + 200])):
            snap.values[row.metric_id].append((row.at, row.value))
    return snap


def latest_publishes_query() -> Select[Any]:
    """The latest publish of each output (a handful of rows each: publishes are trimmed)."""
    latest = select(func.max(publishes.c.id)).group_by(publishes.c.output_id)
    return select(
        publishes.c.output_id, publishes.c.published_at, publishes.c.content, publishes.c.repeats
    ).where(publishes.c.id.in_(latest.scalar_subquery()))


def ping_summary_query(since: datetime) -> Select[Any]:
    """The latest ping of each kind of each subject since ``since`` and their count: a range
    of the ``at`` index, aggregated in the database."""
    c = pings.c
    return (
        select(
            c.subject_kind, c.subject_id, c.kind, type_coerce(func.max(c.at), String), func.count()
        )
        .where(c.at >= since)
        # kind first: no subject index can give this order, so no planner walks one whole
        .group_by(c.kind, c.subject_kind, c.subject_id)
    )


def recent_pings_query(since: datetime, scheduled: Collection[str] = ()) -> Select[Any]:
    """The pushes since ``since`` (every ping but a start) of outputs and of the heartbeats
    named in ``scheduled``, oldest first: a range of the ``at`` index."""
    c = pings.c
    wanted = c.subject_kind == "output"
    if scheduled:
        wanted = or_(
            wanted, and_(c.subject_kind == "heartbeat", c.subject_id.in_(sorted(scheduled)))
        )
    return (
        select(c.subject_kind, c.subject_id, c.kind, type_coerce(c.at, String))
        .where(c.at >= since, c.kind != "start")
        .order_by(c.at)
    )


def recent_values_query(since: datetime) -> Select[Any]:
    """Metric values measured since ``since``, oldest first: a range of the ``at`` index."""
    values = metric_values.c
    return (
        select(values.metric_id, values.at, values.value)
        .where(values.at >= since)
        .order_by(values.at)
    )


def latest_values_query(metric_ids: Sequence[str]) -> CompoundSelect[Any]:
    """The latest value of each of ``metric_ids`` (at least one): a seek per metric."""
    values = metric_values.c
    return _latest_each(
        [
            select(values.metric_id, values.at, values.value).where(values.metric_id == ident)
            for ident in metric_ids
        ],
        values.at,
        values.id,
    )


def latest_pings_query(names: Sequence[str], since: datetime) -> CompoundSelect[Any]:
    """The latest ping since ``since`` of each heartbeat in ``names`` (at least one): a seek
    per heartbeat on the subject index."""
    c = pings.c
    return _latest_each(
        [
            select(c.subject_id, c.kind, type_coerce(c.at, String).label("at")).where(
                c.subject_kind == "heartbeat", c.subject_id == name, c.at >= since
            )
            for name in names
        ],
        c.at,
        c.id,
    )


def _latest_each(parts: Sequence[Select[Any]], *order: Any) -> CompoundSelect[Any]:
    # Each part wrapped as a subquery: SQLite allows ORDER BY ... LIMIT only there in a UNION.
    ones = [part.order_by(*(c.desc() for c in order)).limit(1).subquery() for part in parts]
    return union_all(*(select(*one.c) for one in ones))


def save_findings(
    conn: Connection,
    findings: list[Finding],
    now: datetime,
    scheduled: frozenset[str] = frozenset(),
    priors: dict[tuple[str, str], Prior] | None = None,
) -> list[dict[str, Any]]:
    """Store ``findings`` and record every status change as a transition and a failure event.

    For outputs named in ``scheduled``, a new data time seen on disk is kept as an ``observed``
    push, so the schedule's history survives the file being overwritten.

    ``priors`` is the snapshot the findings were computed from: rows equal to it are not
    rewritten, and only subjects whose status changes are read again inside the lock. Returns
    the transitions recorded by this call (none when another watcher already made them). Only
    rows that changed are written, in batches: a steady pass costs a handful of statements.
    """
    priors = priors or {}
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WATCH_LOCK})
    current = _statuses(conn, findings, priors)
    seen_at = _data_times(conn, scheduled)
    inserts: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    touched: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    observed: list[dict[str, Any]] = []
    for finding in findings:
        key = (finding.subject_kind, finding.subject_id)
        prior = priors.get(key)
        status = current.get(key, prior.status if prior else None)
        if status is None:
            inserts.append(_state_values(finding, now))
            if not finding.ok:
                transitions.append(_transition(finding, None, now))
        elif status != finding.status:
            moved.append(_bound(_state_values(finding, now)))
            transitions.append(_transition(finding, status, now))
        elif prior is None or _dirty(prior, finding):
            values = _state_values(finding, now)
            del values["since"]  # unchanged status: it began when it began
            del values["status"]  # and whatever another watcher made of it stands
            touched.append(_bound(values))
        arrived = finding.subject_kind == "output" and finding.subject_id in scheduled
        if arrived and finding.data_at is not None and seen_at.get(key) != finding.data_at:
            observed.append(
                {
                    "subject_kind": "output",
                    "subject_id": finding.subject_id,
                    "kind": "observed",
                    "at": finding.data_at,
                    "source": "watch",
                    "note": None,
                }
            )
    if inserts:
        conn.execute(insert(watch_states), inserts)
    for batch, columns in ((moved, _UPDATED), (touched, _UPDATED[2:])):
        if batch:
            statement = (
                update(watch_states)
                .where(watch_states.c.subject_kind == bindparam("b_subject_kind"))
                .where(watch_states.c.subject_id == bindparam("b_subject_id"))
                .values({k: bindparam(f"b_{k}") for k in columns})
            )
            conn.execute(statement, batch)
    if observed:
        conn.execute(insert(pings), observed)
    if transitions:
        with_events = [t for t in transitions if t["event"] is not None]
        ids = record_events(conn, [t["event"] for t in with_events])
        for transition, event_id in zip(with_events, ids, strict=True):
            transition["event_id"] = event_id
        for transition in transitions:
            transition.setdefault("event_id", None)
            del transition["event"]
        conn.execute(insert(watch_transitions), transitions)
    return transitions


_UPDATED = (
    "since",
    "status",  # the first two are written only with a change of status
    "reason",
    "last_good_at",
    "data_at",
    "content_hash",
    "same_content",
    "deadline",
    "checked_at",
    "details",
)


def _dirty(prior: Prior, finding: Finding) -> bool:
    return (
        prior.data_at != finding.data_at
        or prior.content_hash != finding.content_hash
        or prior.same_content != finding.same_content
        or prior.last_good_at != finding.last_good_at
        or prior.deadline != finding.deadline
    )


def _statuses(
    conn: Connection, findings: list[Finding], priors: dict[tuple[str, str], Prior]
) -> dict[tuple[str, str], str]:
    """The stored status, read inside the lock, of every subject whose status this pass would
    change (or that is new): the rows another watcher may have moved since the snapshot."""
    states = watch_states.c
    query = select(states.subject_kind, states.subject_id, states.status)
    changing = [
        f.subject_id
        for f in findings
        if (prior := priors.get((f.subject_kind, f.subject_id))) is None or prior.status != f.status
    ]
    if not changing:
        return {}
    if len(changing) <= 500:  # a steady pass: read just those rows
        query = query.where(states.subject_id.in_(sorted(set(changing))))
    return {(kind, ident): status for kind, ident, status in conn.execute(query).all()}


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    return {f"b_{k}": v for k, v in values.items()}


def _data_times(conn: Connection, scheduled: frozenset[str]) -> dict[tuple[str, str], Any]:
    """The stored data time of each scheduled output (to keep each new one as a push once)."""
    if not scheduled:
        return {}
    query = select(watch_states.c.subject_id, watch_states.c.data_at).where(
        watch_states.c.subject_kind == "output", watch_states.c.subject_id.in_(sorted(scheduled))
    )
    return {("output", row.subject_id): row.data_at for row in conn.execute(query)}


def _state_values(finding: Finding, now: datetime) -> dict[str, Any]:
    return {
        "subject_kind": finding.subject_kind,
        "subject_id": finding.subject_id,
        "status": finding.status,
        "reason": finding.reason,
        "since": finding.changed_at,
        "last_good_at": finding.last_good_at,
        "data_at": finding.data_at,
        "content_hash": finding.content_hash,
        "same_content": finding.same_content,
        "deadline": finding.deadline,
        "checked_at": now,
        "details": {"source": finding.source, "seat": finding.seat},
    }


def _transition(finding: Finding, before: str | None, now: datetime) -> dict[str, Any]:
    at = finding.changed_at
    return {
        "subject_kind": finding.subject_kind,
        "subject_id": finding.subject_id,
        "from_status": before,
        "to_status": finding.status,
        "at": at,
        "recorded_at": now,
        "reason": finding.reason,
        "event": _event(finding, before),
    }


def _event(finding: Finding, before: str | None) -> FailureEvent | None:
    """The failure event of a transition; None between two good states (late to up)."""
    if finding.ok and (before is None or before in OK_STATUSES):
        return None
    kind = "recovered" if finding.ok else _EVENT_KIND.get(finding.status, finding.status)
    at = finding.changed_at
    return FailureEvent(
        kind=cast(EventKind, kind),  # statuses are event kinds by construction
        occurred_at=at,
        subject_kind=_EVENT_SUBJECT[finding.subject_kind],
        subject_id=finding.subject_id,
        seat_id=finding.seat,
        message=finding.message(),
        details={
            "watch_subject": finding.subject_kind,
            "from": before,
            "to": finding.status,
            "reason": finding.reason,
            "source": finding.source,
            "data_at": _iso(finding.data_at),
            "last_good_at": _iso(finding.last_good_at),
        },
        dedupe_key=f"watch:{finding.subject_kind}:{finding.subject_id}:{finding.status}:{at.isoformat()}",
    )


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    if type(value) is str:  # SQLite: naive UTC text, the common case of a 10,000-row read
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
