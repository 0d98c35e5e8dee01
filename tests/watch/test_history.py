"""Bounded history on both backends: retention, pruning that keeps what current status needs,
publishes trimmed to the last few, and every history query of a pass served by an index."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select

from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import metric_values, pings, publishes, watch_transitions
from orgplane.store.types import utcnow
from orgplane.watch.check import check_once
from orgplane.watch.prune import (
    KEEP_PUBLISHES,
    prune,
    prune_pass,
    prune_pings_query,
    prune_transitions_query,
    prune_values_query,
)
from orgplane.watch.publish import publish
from orgplane.watch.sample import write_sample_state
from orgplane.watch.state import (
    latest_values_query,
    ping_summary_query,
    recent_pings_query,
    recent_values_query,
)
from tests.watch.conftest import iso

NOW = utcnow().replace(microsecond=0)
DAY = timedelta(days=1)


def ping(subject: str, at: datetime, kind: str = "success") -> dict[str, Any]:
    return {
        "subject_kind": "heartbeat",
        "subject_id": subject,
        "kind": kind,
        "at": at,
        "source": "heartbeat",
        "note": None,
    }


def value(metric: str, at: datetime, number: float = 1.0) -> dict[str, Any]:
    return {"metric_id": metric, "value": number, "at": at, "pushed_at": at, "pushed_by": "tally"}


def transition(subject: str, at: datetime) -> dict[str, Any]:
    return {
        "subject_kind": "output",
        "subject_id": subject,
        "from_status": "fresh",
        "to_status": "stale",
        "at": at,
        "recorded_at": at,
        "reason": "old",
        "event_id": None,
    }


def count(store: Store, table: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_retention_defaults_to_90_days_and_refuses_less_than_the_schedule_window() -> None:
    assert Org(name="x").retention == 90 * DAY
    assert Org.model_validate({"name": "x", "retention": "30d"}).retention == 30 * DAY
    with pytest.raises(ValueError, match="retention 1d is shorter than the 8d"):
        Org.model_validate({"name": "x", "retention": "1d"})


def test_prune_deletes_old_history_and_keeps_what_status_depends_on(store: Store, org: Org) -> None:
    org = org.model_copy(update={"retention": 30 * DAY})
    old, recent = NOW - 60 * DAY, NOW - DAY
    with store.write() as conn:
        conn.execute(
            insert(pings),
            [ping("tally-push", old + timedelta(hours=h)) for h in range(10)]
            + [ping("tally-push", recent)]
            + [ping("arin-coaching", old, "start")],  # its only ping: the latest, kept
        )
        conn.execute(
            insert(metric_values),
            [value("leads-booked", old + timedelta(hours=h)) for h in range(6)]
            + [value("leads-booked", recent)]
            + [value("calls-answered", old, 91.0)],  # the latest value, however old: kept
        )
        conn.execute(
            insert(watch_transitions),
            [transition("dash-analysis", old)] * 4 + [transition("dash-analysis", recent)],
        )
    report = prune(store, org, NOW)
    assert (report.pings, report.metric_values, report.watch_transitions) == (10, 6, 4)
    assert report.cutoff == NOW - 30 * DAY
    with store.read() as conn:
        left = conn.execute(select(pings.c.subject_id, pings.c.at).order_by(pings.c.id)).all()
        kept = conn.execute(select(metric_values.c.metric_id, metric_values.c.value)).all()
    assert [(r.subject_id, r.at) for r in left] == [("tally-push", recent), ("arin-coaching", old)]
    assert sorted(kept) == [("calls-answered", 91.0), ("leads-booked", 1.0)]
    assert count(store, watch_transitions) == 1
    assert prune(store, org, NOW).total == 0  # nothing left to prune


def test_a_watcher_pass_prunes_a_bounded_batch(store: Store, org: Org) -> None:
    org = org.model_copy(update={"retention": 30 * DAY})
    old = NOW - 60 * DAY
    with store.write() as conn:
        conn.execute(
            insert(pings), [ping("tally-push", old + timedelta(minutes=m)) for m in range(7)]
        )
        conn.execute(insert(watch_transitions), [transition("x", old)] * 7)
    first = prune_pass(store, org, NOW, batch=3)
    assert (first.pings, first.watch_transitions) == (3, 3)
    prune_pass(store, org, NOW, batch=3)
    last = prune_pass(store, org, NOW, batch=3)
    assert (last.pings, last.watch_transitions) == (0, 1)  # the latest ping of a subject stays
    assert count(store, pings) == 1


def test_publishes_keep_the_last_few_and_the_last_good_one(store: Store, org: Org) -> None:
    good = json.dumps(
        {"generated_at": iso(NOW - timedelta(hours=1)), "clients": ["a"], "total_spend": 1}
    ).encode()
    assert publish(store, org, "dash-analysis", good, NOW).status == "fresh"
    for n in range(KEEP_PUBLISHES + 3):  # corrupt content, published again and again
        publish(store, org, "dash-analysis", f"not json {n}".encode(), NOW)
    with store.read() as conn:
        rows = conn.execute(
            select(publishes.c.content, publishes.c.status)
            .where(publishes.c.output_id == "dash-analysis")
            .order_by(publishes.c.id)
        ).all()
    assert len(rows) == KEEP_PUBLISHES + 1
    assert (rows[0].content, rows[0].status) == (good, "fresh")  # the last good content
    assert [r.content for r in rows[1:]] == [
        f"not json {n}".encode() for n in range(3, KEEP_PUBLISHES + 3)
    ]


def test_prune_trims_a_backlog_of_publishes(store: Store, org: Org) -> None:
    with store.write() as conn:  # as stored before publishes were trimmed
        conn.execute(
            insert(publishes),
            [
                {
                    "output_id": "dash-analysis",
                    "published_at": NOW - timedelta(minutes=n),
                    "content": b"{}",
                    "content_hash": "h",
                    "size": 2,
                    "repeats": 1,
                }
                for n in range(20)
            ],
        )
    # Of unknown status, the newest may be the last good one: it is among the five kept.
    assert prune(store, org, NOW).publishes == 20 - KEEP_PUBLISHES
    assert count(store, publishes) == KEEP_PUBLISHES


def test_pruning_leaves_every_status_as_it_was(store: Store, org: Org) -> None:
    write_sample_state(org, NOW)
    before = check_once(store, org, NOW)
    with store.write() as conn:
        conn.execute(insert(pings), [ping("tally-push", NOW - 200 * DAY)] * 3)
    prune(store, org, NOW)
    after = check_once(store, org, NOW)
    assert [(f.subject_id, f.status) for f in after.findings] == [
        (f.subject_id, f.status) for f in before.findings
    ]
    assert after.transitions == []


HISTORY_TABLES = ("pings", "metric_values", "watch_transitions", "newer")


def plan(conn: Connection, query: Any) -> list[str]:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if conn.dialect.name == "sqlite":
        positional = tuple(params[name] for name in compiled.positiontup)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", positional)
        return [str(row[-1]) for row in rows]
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return [str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {compiled.string}", params)]


@pytest.mark.parametrize(
    "name",
    ["ping_summary", "recent_pings", "recent_values", "latest_values", "prune_pings", "prune_values",
     "prune_transitions"],
)  # fmt: skip
def test_each_history_query_of_a_pass_uses_an_index(store: Store, name: str) -> None:
    since = NOW - 8 * DAY
    query = {
        "ping_summary": lambda: ping_summary_query(since),
        "recent_pings": lambda: recent_pings_query(since),
        "recent_values": lambda: recent_values_query(since),
        "latest_values": lambda: latest_values_query(["leads-booked", "calls-answered"]),
        "prune_pings": lambda: prune_pings_query(since, 500),
        "prune_values": lambda: prune_values_query(since, 500),
        "prune_transitions": lambda: prune_transitions_query(since, 500),
    }[name]()
    with store.read() as conn:
        lines = plan(conn, query)
    text = "\n".join(lines)
    by_time = name != "latest_values"  # the others read a range of time
    if store.dialect == "sqlite":
        # A SCAN walks every row of the history, even "USING INDEX"; a SEARCH seeks a range.
        scans = [line for line in lines if re.match(rf"SCAN ({'|'.join(HISTORY_TABLES)})\b", line)]
        assert not scans, text
        assert re.search(r"SEARCH \w+ USING (COVERING )?INDEX ix_", text), text
        if by_time:
            assert re.search(r"USING (COVERING )?INDEX ix_\w+_at \(at[<>]", text), text
    else:
        assert not re.search(rf"Seq Scan on ({'|'.join(HISTORY_TABLES)})", text), text
        assert "Index Cond" in text, text
        if by_time:
            assert re.search(r"Index Cond: \(+at [<>]", text), text
