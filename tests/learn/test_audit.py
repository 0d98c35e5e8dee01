"""The weekly audit of a generated week matches figures computed independently.

A week of 200 failure events across the 12 agent seats of a generated org (plus events of the
week before, recoveries, and drills that must never count) is recorded through
``record_event`` and decided by the real decision engine and incident filing, each at its own
simulated time (``respond.decisions.decide_pending(now=)`` + ``learn.filing.file_decided``,
what ``service.decisions.decide_batch`` runs, with the clock given). Incidents are closed with
learnings, decisions acknowledged and follow-ups added at simulated times as the close gate and
``decision ack`` would, and org.yaml is edited twice. Meanwhile the test keeps its own model of
what happened, in plain Python, and every figure of the audit is compared with that model.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.comments import CommentedMap
from sqlalchemy import insert, select, update

from orgplane.learn.audit import weekly_audit
from orgplane.learn.filing import file_decided
from orgplane.org.edit import edit_org_file
from orgplane.respond import decisions as engine
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.decisions import decide_pending
from orgplane.service.session import Session
from orgplane.store.tables import events, follow_ups, incidents, org_syncs
from orgplane.store.types import utcnow

SEATS = [f"a{n:02d}" for n in range(1, 13)]
OUTPUT_TIER = {f"o{n:02d}": ("flag" if n % 2 else "page") for n in range(1, 13)}
PROCESS_TIER = {f"p{n:02d}": ("low" if n % 2 else "now") for n in range(1, 13)}
TIERS = {  # name: (deadline, ack silence), as declared below
    "flag": (timedelta(hours=18), timedelta(hours=18)),
    "page": (timedelta(hours=1), timedelta(minutes=30)),
    "low": (timedelta(hours=6), timedelta(hours=6)),
    "now": (timedelta(minutes=15), timedelta(minutes=15)),
}
OUTPUT_KINDS = ("stale", "corrupt", "missing")
PROCESS_KINDS = ("crash", "unhandled_error")
CHANGES = ("handle_error", "set", "coverage", "retire", "follow_up", "no_change")
# Text from outside with markup in it: the audit keeps it as written.
LEARNING = "raise max_age <b>&</b> [red]x[/red] | {n}"


def _org_text() -> str:
    lines = [
        "name: Generated <week> & co",
        "seats:",
        "  coo: {title: COO, kind: human, holder: Bogdan}",
    ]
    lines += [
        f"  {s}: {{title: Agent {s}, kind: agent, owner: coo, reports_to: coo}}" for s in SEATS
    ]
    lines.append("outputs:")
    lines += [f"  {o}: {{producer: a{o[1:]}, urgency: {tier}}}" for o, tier in OUTPUT_TIER.items()]
    lines.append("processes:")
    lines += [
        f"  {p}: {{seat: a{p[1:]}, urgency: {tier}, stages: [{{name: work, kind: pure}}]}}"
        for p, tier in PROCESS_TIER.items()
    ]
    lines += [
        "urgency:",
        "  flag: {deadline: 18h, action: skip_and_flag}",
        "  page: {deadline: 1h, action: escalate, notify: coo, ack_timeout: 30m}",
        "  low: {deadline: 6h, action: wait}",
        "  now: {deadline: 15m, action: escalate}",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Incident:
    """The test's own record of one incident (one per signature)."""

    seat: str
    subject_kind: str
    subject_id: str
    kind: str
    drill: bool
    occurred: datetime
    detected: datetime
    decided: datetime
    status: str = "open"
    recovered: datetime | None = None
    events: int = 0
    reopened: int = 0
    learning: str | None = None
    closed_at: datetime | None = None
    change: str | None = None
    held: bool | None = None
    db_id: int | None = None


@dataclass
class Decision:
    subject_kind: str
    subject_id: str
    kind: str
    tier: str
    deadline: datetime
    drill: bool
    db_id: int
    open: bool = True
    acked_at: datetime | None = None
    acked_until: datetime | None = None


@dataclass
class Week:
    """What the test generated and what it expects, kept in plain Python."""

    since: datetime
    until: datetime
    incidents: dict[tuple[str, str, str, str], Incident] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    failures: list[tuple[tuple[str, str, str, str], datetime, bool]] = field(default_factory=list)
    reopenings: list[tuple[tuple[str, str, str, str], datetime, str | None]] = field(
        default_factory=list
    )
    closes: list[tuple[tuple[str, str, str, str], datetime, str, str]] = field(default_factory=list)
    follow_ups: list[tuple[int, str, str, datetime, datetime | None, bool]] = field(
        default_factory=list
    )
    syncs: list[tuple[str | None, int | None, str | None, set[tuple[str, str, str, str]]]] = field(
        default_factory=list
    )


@dataclass(order=True)
class Action:
    at: datetime
    order: int
    what: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


@pytest.fixture
def session(tmp_path: Path, db_url: str) -> Iterator[Session]:
    path = tmp_path / "org.yaml"
    path.write_text(_org_text())
    with Session.open(path, db_url) as session:
        yield session


def _subject(rng: random.Random) -> tuple[str, str, str, str]:
    n = rng.randrange(1, 13)
    if rng.random() < 0.6:
        return (f"a{n:02d}", "output", f"o{n:02d}", rng.choice(OUTPUT_KINDS))
    return (f"a{n:02d}", "process", f"p{n:02d}", rng.choice(PROCESS_KINDS))


def _tier(subject_kind: str, subject_id: str) -> str:
    return (OUTPUT_TIER if subject_kind == "output" else PROCESS_TIER)[subject_id]


def _plan(rng: random.Random, since: datetime, last: datetime) -> list[Action]:
    """The failures, recoveries and drills of the week, each with when it occurred, was stored
    and was decided; ordered by when it was stored."""
    actions: list[Action] = []
    order = iter(range(1_000_000))

    def event(sig: tuple[str, str, str, str], occurred: datetime, **data: Any) -> None:
        detected = occurred + timedelta(seconds=rng.randint(5, 2 * 3600))
        decided = detected + timedelta(milliseconds=rng.randint(20, 30_000))
        actions.append(
            Action(
                detected,
                next(order),
                "event",
                {"sig": sig, "occurred": occurred, "decided": decided, **data},
            )
        )

    span = (last - since).total_seconds()
    in_window = [since + timedelta(seconds=rng.uniform(0, span)) for _ in range(200)]
    before = [since - timedelta(seconds=rng.uniform(60, 3 * 86400)) for _ in range(30)]
    for occurred in sorted(before + in_window):
        sig = _subject(rng)
        event(sig, occurred, kind=sig[3])
        if rng.random() < 0.25:  # it recovers later
            at = occurred + timedelta(seconds=rng.randint(600, 5 * 3600))
            if at < last:
                event(sig, at, kind="recovered")
    for n in range(5):  # drills: a signature of their own, never counted
        occurred = since + timedelta(hours=10 + 20 * n)
        event(("a12", "output", "o12", "frozen"), occurred, kind="frozen", drill=True)
    return sorted(actions)


def _record(session: Session, week: Week, action: Action, rng: random.Random) -> list[Action]:
    """Record and decide one event at its times; update the model; return actions it leads to
    (a close of its incident, an acknowledgement of its decision)."""
    org = session.org()
    seat, subject_kind, subject_id, kind = action.data["sig"]
    drill = bool(action.data.get("drill"))
    kind = action.data["kind"]
    occurred, detected, decided = action.data["occurred"], action.at, action.data["decided"]
    with session.store().write() as conn:
        event_id = record_event(
            conn,
            FailureEvent(
                kind=kind,
                occurred_at=occurred,
                subject_kind=subject_kind,  # type: ignore[arg-type]
                subject_id=subject_id,
                seat_id=seat,
                message=f"{subject_id} {kind}",
                details={"drill": True} if drill else {},
            ),
        )
        assert event_id is not None
        # record_event stamps the wall clock: this event was stored at its simulated time.
        conn.execute(update(events).where(events.c.id == event_id).values(recorded_at=detected))
    with session.store().write() as conn:
        outcomes = engine.decide_pending(conn, org, now=decided)
        file_decided(conn, [o.event_id for o in outcomes], now=decided)
    [outcome] = outcomes
    follow: list[Action] = []
    if kind == "recovered":
        for decision in week.decisions:
            if decision.open and (decision.subject_kind, decision.subject_id) == (
                subject_kind,
                subject_id,
            ):
                decision.open = False
        for incident in week.incidents.values():
            same = (incident.subject_kind, incident.subject_id) == (subject_kind, subject_id)
            if same and incident.status == "open" and incident.recovered is None:
                incident.recovered = occurred
        return follow
    sig = (seat, subject_kind, subject_id, kind)
    week.failures.append((sig, occurred, drill))
    incident = week.incidents.get(sig)
    if incident is None:
        incident = Incident(
            seat, subject_kind, subject_id, kind, drill, occurred, detected, decided
        )
        week.incidents[sig] = incident
    elif incident.status == "closed":
        incident.status, incident.reopened, incident.held = "open", incident.reopened + 1, False
        incident.recovered = None
        week.reopenings.append((sig, detected, incident.learning))
    else:
        incident.recovered = None  # failing again (a no-op while it was still failing)
    incident.events += 0 if drill else 1
    open_one = any(
        d.open and (d.subject_kind, d.subject_id, d.kind) == (subject_kind, subject_id, kind)
        for d in week.decisions
    )
    # The model says whether this event opens a decision or repeats an open one.
    assert outcome.effect == ("repeated" if open_one else "opened")
    if not open_one:
        assert outcome.decision_id is not None
        tier = _tier(subject_kind, subject_id)
        decision = Decision(
            subject_kind,
            subject_id,
            kind,
            tier,
            occurred + TIERS[tier][0],
            drill,
            outcome.decision_id,
        )
        week.decisions.append(decision)
        if rng.random() < 0.3:
            ack_at = decided + timedelta(seconds=rng.randint(300, 2 * 86400))
            follow.append(Action(ack_at, rng.randrange(10**9), "ack", {"decision": decision}))
    if not drill and rng.random() < 0.3:
        close_at = detected + timedelta(seconds=rng.randint(3600, 2 * 86400))
        follow.append(Action(close_at, rng.randrange(10**9), "close", {"sig": sig}))
    return follow


def _close(session: Session, week: Week, action: Action, rng: random.Random) -> None:
    """Close the incident with a learning, as the close gate would (it is not built yet)."""
    sig = action.data["sig"]
    incident = week.incidents[sig]
    if incident.status != "open":
        return
    n = len(week.closes)
    change = CHANGES[n % len(CHANGES)]
    learning = LEARNING.format(n=n)
    with session.store().write() as conn:
        incident_id = conn.execute(
            select(incidents.c.id)
            .where(incidents.c.open_signature.is_not(None))
            .where(
                incidents.c.seat_id == sig[0],
                incidents.c.subject_kind == sig[1],
                incidents.c.subject_id == sig[2],
                incidents.c.kind == sig[3],
            )
        ).scalar_one()
        conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id)
            .values(
                status="closed",
                open_signature=None,
                closed_at=action.at,
                closed_by="coo",
                learning=learning,
                change={"kind": change, "note": "<i>see</i>"},
            )
        )
        if change == "follow_up":
            due = action.at + timedelta(seconds=rng.randint(-3600, 4 * 86400))
            done = action.at + timedelta(hours=rng.choice([1, 30, 200])) if n % 4 == 0 else None
            text = f"check the <threshold> & tell [bold]{sig[0]}[/bold] #{n}"
            conn.execute(
                insert(follow_ups).values(
                    incident_id=incident_id,
                    text=text,
                    owner=sig[0],
                    due=due,
                    created_at=action.at,
                    created_by="coo",
                    done_at=done,
                )
            )
            week.follow_ups.append((incident_id, text, sig[0], due, done, incident.drill))
    incident.db_id = incident_id
    incident.status, incident.learning, incident.closed_at = "closed", learning, action.at
    incident.change = change
    week.closes.append((sig, action.at, learning, change))


def _ack(session: Session, week: Week, action: Action) -> None:
    decision: Decision = action.data["decision"]
    if not decision.open:
        return
    with session.store().write() as conn:
        engine.acknowledge(conn, session.org(), decision.db_id, "on it", now=action.at)
    decision.acked_at = action.at
    decision.acked_until = action.at + TIERS[decision.tier][1]


def _edit_org(session: Session, week: Week) -> None:
    """Two edits of org.yaml, synced as a command would: one by hand, one by a learning."""
    path = session.org_path

    def holder(document: CommentedMap) -> None:
        document["seats"]["a03"]["holder"] = "Agent <Three> & [red]co[/red]"

    edit_org_file(path, holder)
    session.forget_org()
    session.store()
    week.syncs.append((None, None, None, {("seat", "a03", "updated", "holder")}))

    def learned(document: CommentedMap) -> None:
        document["seats"]["a13"] = CommentedMap(
            {"title": "Agent a13", "kind": "agent", "owner": "coo", "reports_to": "coo"}
        )
        document["outputs"]["o05"]["urgency"] = "page"

    edit_org_file(path, learned)
    session.forget_org()
    session.store()
    closed = next(i for i in week.incidents.values() if i.db_id is not None)
    with session.store().write() as conn:  # as the close gate records its edit
        last = conn.execute(select(org_syncs.c.id).order_by(org_syncs.c.id.desc())).scalar()
        conn.execute(
            update(org_syncs)
            .where(org_syncs.c.id == last)
            .values(cause="learning", incident_id=closed.db_id, actor="coo")
        )
    week.syncs.append(
        (
            "learning",
            closed.db_id,
            "coo",
            {("seat", "a13", "added", ""), ("output", "o05", "updated", "urgency")},
        )
    )


def generate_week(session: Session, seed: int) -> Week:
    rng = random.Random(seed)
    start = utcnow().replace(microsecond=0)
    # The week ends an hour from now, so the org edits this test makes fall inside it.
    until = start + timedelta(hours=1)
    week = Week(since=until - timedelta(days=7), until=until)
    session.store()
    with session.store().write() as conn:  # the org was declared long before the week
        conn.execute(update(org_syncs).values(at=week.since - timedelta(days=30)))
    pending = _plan(rng, week.since, start - timedelta(hours=3))
    while pending:
        pending.sort()
        action = pending.pop(0)
        if action.at >= start:  # what would happen after now does not happen
            continue
        if action.what == "event":
            pending += _record(session, week, action, rng)
        elif action.what == "close":
            _close(session, week, action, rng)
        else:
            _ack(session, week, action)
    _edit_org(session, week)
    return week


def _seconds(values: list[timedelta]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    seconds = [v.total_seconds() for v in values]
    return statistics.median(seconds), max(seconds)


def expected(week: Week) -> dict[str, Any]:
    """Every figure of the audit, from the model alone."""
    since, until = week.since, week.until
    in_window: dict[tuple[str, str, str, str], int] = {}
    for sig, occurred, drill in week.failures:
        if not drill and since <= occurred < until:
            in_window[sig] = in_window.get(sig, 0) + 1
    listed = {sig: week.incidents[sig] for sig in in_window}
    by_seat: dict[str, list[int]] = {}
    by_tier: dict[str, list[int]] = {}
    for sig, inc in listed.items():
        row = [1, int(inc.occurred >= since), int(inc.status == "open"), 0, in_window[sig]]
        row[3] = 1 - row[2]
        for key, table in ((inc.seat, by_seat), (_tier(sig[1], sig[2]), by_tier)):
            table[key] = [a + b for a, b in zip(table.get(key, [0] * 5), row, strict=True)]
    new = [inc for inc in listed.values() if inc.occurred >= since]
    times = {
        "detect": _seconds([i.detected - i.occurred for i in new]),
        "decide": _seconds([i.decided - i.detected for i in new]),
        # a recovery of the subject can come before a later kind's first failure: never < 0
        "recover": _seconds(
            [max(i.recovered - i.occurred, timedelta(0)) for i in new if i.recovered]
        ),
    }
    return {
        "incidents": {
            sig: (inc.status, inc.occurred >= since, inc.events, in_window[sig], inc.reopened)
            for sig, inc in listed.items()
        },
        "by_seat": {k: tuple(v) for k, v in by_seat.items()},
        "by_tier": {k: tuple(v) for k, v in by_tier.items()},
        "times": times,
        "times_counted": {
            "detect": len(new),
            "decide": len(new),
            "recover": sum(1 for i in new if i.recovered),
        },
        "repeats": {sig for sig, inc in listed.items() if inc.events > 1 or inc.reopened},
        # an incident closed twice shows its last learning; the first is among those that
        # did not hold (its reopening)
        "applied": sorted(
            (sig, at, learning, change, week.incidents[sig].held)
            for sig, (at, learning, change) in {
                sig: (at, learning, change) for sig, at, learning, change in week.closes
            }.items()
            if since <= at < until
        ),
        "not_held": sorted(
            (sig, at, learning) for sig, at, learning in week.reopenings if since <= at < until
        ),
        "follow_ups": sorted(
            (text, owner, due)
            for _, text, owner, due, done, drill in week.follow_ups
            if due < until and (done is None or done >= until) and not drill
        ),
        "late": sorted(
            (d.subject_kind, d.subject_id, d.kind, d.deadline)
            for d in week.decisions
            if d.open
            and d.deadline < until
            and not d.drill
            and not (d.acked_at and d.acked_at < until and d.acked_until and d.acked_until > until)
        ),
        "syncs": [(cause, inc, actor, items) for cause, inc, actor, items in week.syncs],
    }


def test_the_audit_of_a_generated_week_matches_the_figures_computed_independently(
    session: Session,
) -> None:
    week = generate_week(session, seed=11)
    want = expected(week)
    # The week exercises every figure (else the comparisons below would prove little).
    assert sum(1 for _, o, d in week.failures if not d and o >= week.since) == 200
    assert len({s[0] for s in want["incidents"]}) == 12
    for key in ("repeats", "applied", "not_held", "follow_ups", "late"):
        assert want[key], f"the generated week has no {key}"
    assert any(not new for _, new, *_ in want["incidents"].values())
    assert any(d.drill for d in week.decisions)

    with session.store().read() as conn:
        audit = weekly_audit(conn, session.org(), since=week.since, until=week.until)

    def sig(item: Any) -> tuple[str, str, str, str]:
        return (item.seat_id, item.subject_kind, item.subject_id, item.kind)

    got_incidents = {
        sig(i): (i.status, i.new, i.events, i.events_in_window, i.reopened) for i in audit.incidents
    }
    assert got_incidents == want["incidents"]
    assert {g.key: (g.incidents, g.new, g.open, g.closed, g.events) for g in audit.by_seat} == (
        want["by_seat"]
    )
    assert {g.key: (g.incidents, g.new, g.open, g.closed, g.events) for g in audit.by_tier} == (
        want["by_tier"]
    )
    for t in audit.times:
        assert t.incidents == want["times_counted"][t.step], t.step
        median, worst = want["times"][t.step]
        assert t.median_seconds == pytest.approx(median, abs=1e-3), t.step
        assert t.worst_seconds == pytest.approx(worst, abs=1e-3), t.step
    assert {sig(i) for i in audit.repeats} == want["repeats"]
    assert (
        sorted(
            (sig(a), a.closed_at, a.learning, a.change_kind, a.held)
            for a in audit.learnings_applied
        )
        == want["applied"]
    )
    assert (
        sorted((sig(n), n.reopened_at, n.learning) for n in audit.learnings_not_held)
        == want["not_held"]
    )
    assert sorted((f.text, f.owner, f.due) for f in audit.follow_ups_overdue) == want["follow_ups"]
    assert (
        sorted((d.subject_kind, d.subject_id, d.kind, d.deadline) for d in audit.decisions_late)
        == want["late"]
    )
    got_syncs = [
        (
            s.cause,
            s.incident_id,
            s.actor,
            {(c.entity, c.entity_id, c.change, ",".join(c.fields)) for c in s.changes},
        )
        for s in audit.org_changes
    ]
    assert got_syncs == want["syncs"]
    counts = audit.counts
    assert (counts.incidents, counts.events) == (
        len(want["incidents"]),
        sum(v[3] for v in want["incidents"].values()),
    )
    assert counts.events == 200  # every failure of the window, drills aside, in one incident
    assert (counts.learnings_applied, counts.learnings_not_held) == (
        len(want["applied"]),
        len(want["not_held"]),
    )
    assert (counts.follow_ups_overdue, counts.decisions_late, counts.org_changes) == (
        len(want["follow_ups"]),
        len(want["late"]),
        3,
    )
    assert audit.not_really_delegated == []  # no runs in the generated week


def test_an_empty_week_has_no_figures(session: Session) -> None:
    until = datetime(2026, 11, 30, tzinfo=UTC)
    with session.store().read() as conn:
        audit = weekly_audit(conn, session.org(), since=until - timedelta(days=7), until=until)
    assert audit.incidents == [] and audit.by_seat == [] and audit.decisions_late == []
    assert [(t.step, t.incidents, t.median_seconds) for t in audit.times] == [
        ("detect", 0, None),
        ("decide", 0, None),
        ("recover", 0, None),
    ]


def test_the_window_includes_its_start_excludes_its_end_and_never_counts_a_drill(
    agency: Path, db_url: str
) -> None:
    since = datetime(2026, 11, 23, tzinfo=UTC)
    until = since + timedelta(days=7)
    with Session.open(agency, db_url) as session:
        with session.store().write() as conn:
            for at, subject, drill in (
                (since, "dash-analysis", False),  # the first instant: in
                (since + timedelta(hours=1), "dash-analysis", True),  # a drill joining it: out
                (until, "nick-pipeline", False),  # the end: out
                (since + timedelta(days=2), "tally-kpis", True),  # a drill's own: out
            ):
                record_event(
                    conn,
                    FailureEvent(
                        kind="stale",
                        occurred_at=at,
                        subject_kind="output",
                        subject_id=subject,
                        message=f"{subject} stale",
                        details={"drill": True} if drill else {},
                    ),
                )
        decide_pending(session)
        with session.store().read() as conn:
            audit = weekly_audit(conn, session.org(), since=since, until=until)
    [incident] = audit.incidents
    assert (incident.subject_id, incident.events, incident.events_in_window) == (
        "dash-analysis",
        1,
        1,
    )
    assert audit.counts.events == 1 and audit.repeats == []
    # the drill's own decision (tally-kpis, 18h) is past its deadline but never listed
    assert {d.subject_id for d in audit.decisions_late} == {"dash-analysis"}
