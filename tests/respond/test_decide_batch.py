"""A batch decided in a few statements decides exactly as event by event: the same decisions,
repeats, closes, links and queued messages, on SQLite and PostgreSQL (a Hypothesis property
over event sequences mixing repeats, recoveries and escalations)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.respond.decisions import Outcome, decide_pending
from orgplane.respond.events import EventKind, FailureEvent, record_events
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import (
    decision_events,
    decisions,
    events,
    notification_attempts,
    notifications,
)
from orgplane.store.types import utcnow

ORG = """name: T
seats:
  boss: {title: Boss, kind: human}
  bot: {title: Bot, kind: agent, owner: boss}
outputs:
  out: {producer: bot, urgency: page}
  slow: {producer: bot, urgency: later}
  flagged: {producer: bot, urgency: flag}
urgency:
  page: {deadline: 1h, action: escalate, repeat: 15m}
  later: {deadline: 2h, action: wait}
  flag: {deadline: 3h, action: skip_and_flag}
"""

SUBJECTS = ("out", "slow", "flagged", "undeclared")
"""An escalation, a wait, a skip-and-flag and an output no tier covers (escalated now)."""

KINDS: tuple[EventKind, ...] = ("stale", "missing", "recovered")


@pytest.fixture
def batch_org(tmp_path: Path) -> Org:
    path = tmp_path / "org.yaml"
    path.write_text(ORG)
    return load_org(path)


@pytest.fixture
def batch_store(db_url: str) -> Iterator[Store]:
    store = open_store(db_url)
    yield store
    store.dispose()


def _forget_decisions(store: Store, *, and_events: bool = False) -> None:
    with store.write() as conn:
        for table in (notification_attempts, notifications, decision_events, decisions):
            conn.execute(delete(table))
        if and_events:
            conn.execute(delete(events))


def _decided(store: Store, org: Org, limit: int, at: datetime) -> tuple[Any, ...]:
    """Decide everything pending, ``limit`` events a transaction, all at ``at``; the result
    with each decision named by its first event (ids differ from one pass to the other)."""
    outcomes: list[Outcome] = []
    while True:
        with store.write() as conn:
            batch = decide_pending(conn, org, limit=limit, now=at)
        if not batch:
            break
        outcomes += batch
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(decisions))]
        links = conn.execute(select(decision_events)).all()
        queued = [dict(r._mapping) for r in conn.execute(select(notifications))]
    name = {r["id"]: r["first_event_id"] for r in rows}

    def text(value: str) -> str:
        return re.sub(r"([Dd]ecision (?:ack )?)(\d+)", lambda m: f"{m[1]}#{name[int(m[2])]}", value)

    effects = [(o.event_id, o.effect, name.get(o.decision_id or 0), o.latency_ms) for o in outcomes]
    stored = sorted((tuple(sorted({**r, "id": None}.items())) for r in rows), key=repr)
    linked = sorted((e, name.get(d or 0), at_, ms) for e, d, at_, ms in links)
    messages = sorted(
        (
            name[m["decision_id"]],
            m["key"].split(":")[1],
            m["recipient"],
            m["reason"],
            m["status"],
            text(m["title"]),
            text(m["body"]),
        )
        for m in queued
    )
    return effects, stored, linked, messages


@pytest.mark.slow
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sequence=st.lists(
        st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(KINDS)), min_size=1, max_size=40
    ),
    limit=st.sampled_from([3, 7, 500]),
)
# a recovery closing two decisions opened in one batch names the first opened, as one by one
@example(sequence=[("out", "stale"), ("out", "missing"), ("out", "recovered")], limit=3)
def test_a_batch_decides_as_event_by_event(
    batch_store: Store, batch_org: Org, sequence: list[tuple[str, EventKind]], limit: int
) -> None:
    _forget_decisions(batch_store, and_events=True)
    t0 = utcnow() - timedelta(minutes=5)
    with batch_store.write() as conn:
        record_events(
            conn,
            [
                FailureEvent(
                    kind=kind,
                    occurred_at=t0 + timedelta(seconds=n),
                    subject_kind="output",
                    subject_id=subject,
                    message=f"{subject} is {kind}",
                )
                for n, (subject, kind) in enumerate(sequence)
            ],
        )
    at = utcnow()
    one_by_one = _decided(batch_store, batch_org, 1, at)
    _forget_decisions(batch_store)
    assert _decided(batch_store, batch_org, limit, at) == one_by_one


def test_a_burst_with_repeats_and_a_recovery_in_one_batch(
    batch_store: Store, batch_org: Org
) -> None:
    """out x3, recovered, out: opened, repeated x2, closed, opened again; one message each
    opening, the first cancelled by the recovery."""
    kinds: list[tuple[str, EventKind]] = [
        ("out", "stale"),
        ("slow", "stale"),
        ("out", "stale"),
        ("out", "stale"),
        ("out", "recovered"),
        ("out", "stale"),
    ]
    at = utcnow()
    with batch_store.write() as conn:
        ids = record_events(
            conn,
            [
                FailureEvent(kind=k, occurred_at=at, subject_kind="output", subject_id=s, message=k)
                for s, k in kinds
            ],
        )
        outcomes = decide_pending(conn, batch_org)
    assert [o.event_id for o in outcomes] == ids
    assert [o.effect for o in outcomes] == [
        "opened",
        "opened",
        "repeated",
        "repeated",
        "closed",
        "opened",
    ]
    first, slow, _, _, closing, again = (o.decision_id for o in outcomes)
    assert outcomes[2].decision_id == outcomes[3].decision_id == first == closing != again
    with batch_store.read() as conn:
        rows = {r.id: r for r in conn.execute(select(decisions))}
        links = dict(
            conn.execute(select(decision_events.c.event_id, decision_events.c.decision_id)).all()
        )
        queued = conn.execute(
            select(notifications.c.decision_id, notifications.c.status).order_by(notifications.c.id)
        ).all()
    assert (rows[first].status, rows[first].repeats, rows[first].last_event_id) == (
        "closed",
        2,
        ids[3],
    )
    assert rows[first].closed_by_event == ids[4] and rows[again].status == "open"
    assert rows[slow].action == "wait" and rows[slow].repeats == 0
    assert links == {e: o.decision_id for e, o in zip(ids, outcomes, strict=True)}
    assert sorted(queued) == sorted([(first, "cancelled"), (again, "pending")])
