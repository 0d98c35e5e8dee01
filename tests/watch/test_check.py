"""One pass against a real store (SQLite and PostgreSQL): transitions recorded once, stamped when
they happened; publishes, heartbeats and the scorecard."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from orgplane.errors import NotFoundError
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import sync_org
from orgplane.store.tables import events, watch_transitions
from orgplane.store.types import utcnow
from orgplane.watch.check import check_once
from orgplane.watch.heartbeats import record_heartbeat
from orgplane.watch.metrics import push_metric, scorecard
from orgplane.watch.publish import publish
from orgplane.watch.sample import write_sample_state
from tests.watch.conftest import iso, write_state


def dash_events(store: Store) -> list[tuple[str, datetime]]:
    with store.read() as conn:
        rows = conn.execute(
            select(events.c.kind, events.c.occurred_at)
            .where(events.c.subject_id == "dash-analysis")
            .order_by(events.c.id)
        )
        return [(r.kind, r.occurred_at) for r in rows]


def write_dash(org: Org, stamp: str, written: datetime) -> None:
    body = {"generated_at": stamp, "clients": ["Acme Dental"], "total_spend": 10}
    write_state(org.base_dir / "state" / "dash.json", json.dumps(body), written)


def test_each_transition_is_recorded_once_when_it_happened(store: Store, org: Org) -> None:
    now = utcnow()
    write_sample_state(org, now)
    first = check_once(store, org, now)
    assert next(f for f in first.findings if f.subject_id == "dash-analysis").status == "fresh"

    write_dash(org, iso(now - timedelta(hours=20)), now - timedelta(hours=20))
    second = check_once(store, org, now)
    moved = [(t["subject_id"], t["to_status"]) for t in second.transitions]
    assert ("dash-analysis", "stale") in moved
    later = check_once(store, org, now + timedelta(minutes=5))
    assert "dash-analysis" not in [t["subject_id"] for t in later.transitions]
    assert dash_events(store) == [("stale", now - timedelta(hours=2))]

    write_dash(org, "2026-13-45", now)
    check_once(store, org, now)
    write_dash(org, iso(now), now)
    check_once(store, org, now)
    check_once(store, org, now)
    assert [kind for kind, _ in dash_events(store)] == ["stale", "corrupt", "recovered"]
    with store.read() as conn:
        details = conn.execute(
            select(events.c.message, events.c.seat_id).where(events.c.kind == "stale")
        ).one()
    assert details.seat_id == "dash"
    assert details.message.startswith("output dash-analysis (seat dash) is stale: its data is 20h")


def test_two_watchers_at_once_record_a_transition_once(db_url: str, org: Org) -> None:
    stores = [open_store(db_url) for _ in range(2)]
    try:
        sync_org(stores[0], org)
        now = utcnow()
        write_sample_state(org, now)
        write_dash(org, iso(now - timedelta(hours=20)), now - timedelta(hours=20))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def one_pass(store: Store) -> None:
            try:
                barrier.wait()
                check_once(store, org, now)
            except BaseException as exc:  # reported below; a thread cannot raise into the test
                errors.append(exc)

        threads = [threading.Thread(target=one_pass, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert dash_events(stores[0]) == [("stale", now - timedelta(hours=2))]
        with stores[0].read() as conn:
            rows = conn.execute(
                select(watch_transitions.c.to_status).where(
                    watch_transitions.c.subject_id == "dash-analysis"
                )
            ).all()
        assert [r.to_status for r in rows] == ["stale"]
    finally:
        for store in stores:
            store.dispose()


def test_scorecard_marks_the_missed_push_with_the_last_clean_one(store: Store, org: Org) -> None:
    day = datetime(2026, 6, 21, tzinfo=UTC)
    for hour, value in ((7, 4), (11, 9)):
        at = day + timedelta(hours=hour, minutes=2)
        push_metric(store, org, "leads-booked", value, at, at)
    now = day + timedelta(hours=15, minutes=45)
    row = next(r for r in scorecard(store, org, now) if r["metric"] == "leads-booked")
    assert row["stale"] is True
    assert row["value"] == 9
    assert row["met"] is False  # target at least 12
    assert row["owner"] == "tally"
    assert row["last_clean_push"] == day + timedelta(hours=11, minutes=2)
    assert row["reason"] == (
        "the 15:00 push did not arrive by 15:30 (grace 30m); "
        "2 of 3 pushes due so far today (4 a day); the 15:00 one is missing"
    )
    report = check_once(store, org, now)
    missed = [t for t in report.transitions if t["subject_id"] == "leads-booked"]
    assert [(t["to_status"], t["at"]) for t in missed] == [
        ("missed", day + timedelta(hours=15, minutes=30))
    ]
    with store.read() as conn:
        kinds = (
            conn.execute(select(events.c.kind).where(events.c.subject_id == "leads-booked"))
            .scalars()
            .all()
        )
    assert kinds == ["missed_run"]


ORG_WITH_PUBLISHED = """
name: Sneeze It
seats:
  coo: {title: COO, kind: human}
  dash: {title: Analytics, kind: agent, owner: coo, reports_to: coo}
outputs:
  dash-analysis:
    producer: dash
    timestamp: generated_at
    frozen_after: 3
"""


def test_published_content_is_watched_and_restamped_data_is_frozen(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(ORG_WITH_PUBLISHED)
    org = load_org(path)
    store = open_store(db_url)
    try:
        sync_org(store, org)
        now = utcnow()
        assert check_once(store, org, now).findings[0].status == "missing"
        statuses = []
        for step in (3, 2, 1):
            at = now - timedelta(hours=step)
            body = json.dumps({"generated_at": iso(at), "spend": [1, 2, 3]}).encode()
            statuses.append(publish(store, org, "dash-analysis", body, now).status)
        assert statuses == ["fresh", "fresh", "frozen"]
        finding = check_once(store, org, now).findings[0]
        assert finding.status == "frozen"
        assert finding.source == "the content published for dash-analysis"
        new = json.dumps({"generated_at": iso(now), "spend": [4]}).encode()
        assert publish(store, org, "dash-analysis", new, now).status == "fresh"
        assert check_once(store, org, now).findings[0].status == "fresh"
        with pytest.raises(NotFoundError, match="output 'dsah' is not declared"):
            publish(store, org, "dsah", new, now)
    finally:
        store.dispose()


def test_three_identical_publishes_are_retries_not_frozen(db_url: str, tmp_path: Path) -> None:
    """Regression: the same content and data time sent three times (retries) read frozen."""
    path = tmp_path / "org.yaml"
    path.write_text(ORG_WITH_PUBLISHED)
    org = load_org(path)
    store = open_store(db_url)
    try:
        sync_org(store, org)
        now = utcnow()
        body = json.dumps({"generated_at": iso(now - timedelta(hours=1)), "spend": [1]}).encode()
        statuses = [publish(store, org, "dash-analysis", body, now).status for _ in range(3)]
        assert statuses == ["fresh", "fresh", "fresh"]
        assert check_once(store, org, now).findings[0].status == "fresh"
        moved = json.dumps({"generated_at": iso(now), "spend": [1]}).encode()
        assert publish(store, org, "dash-analysis", moved, now).status == "fresh"  # 2 updates
        again = json.dumps({"generated_at": iso(now + timedelta(minutes=1)), "spend": [1]})
        assert publish(store, org, "dash-analysis", again.encode(), now).status == "frozen"
    finally:
        store.dispose()


def test_a_started_job_that_never_finishes_goes_missing_after_its_grace(
    store: Store, org: Org
) -> None:
    """Regression: a heartbeat started and never finished read ok (running) forever."""
    start = utcnow() - timedelta(hours=3)
    record_heartbeat(store, org, "tally-push", "start", start)
    running = check_once(store, org, start + timedelta(minutes=59))
    beat = next(f for f in running.findings if f.subject_kind == "heartbeat")
    assert (beat.status, beat.ok, beat.deadline) == ("running", True, start + timedelta(hours=1))
    report = check_once(store, org, start + timedelta(hours=2))
    beat = next(f for f in report.findings if f.subject_kind == "heartbeat")
    assert (beat.status, beat.ok) == ("missing", False)
    assert "reported no finish within its grace of 1h" in beat.reason
    moved = [
        (t["to_status"], t["at"]) for t in report.transitions if t["subject_id"] == "tally-push"
    ]
    assert moved == [("missing", start + timedelta(hours=1))]
    record_heartbeat(store, org, "tally-push", "success", start + timedelta(hours=2, minutes=1))
    beat = next(
        f
        for f in check_once(store, org, start + timedelta(hours=3)).findings
        if f.subject_kind == "heartbeat"
    )
    assert beat.status == "up"


def test_a_silent_heartbeat_stays_in_the_findings_past_the_history_window(
    store: Store, org: Org
) -> None:
    """Regression: after eight silent days a heartbeat dropped out of the findings unseen."""
    start = utcnow() - timedelta(days=30)
    record_heartbeat(store, org, "tally-push", "start", start)
    check_once(store, org, start + timedelta(minutes=5))  # running, as the watcher saw it
    later = check_once(store, org, start + timedelta(days=9))
    beat = next(f for f in later.findings if f.subject_kind == "heartbeat")
    assert beat.status == "missing"
    assert [t["to_status"] for t in later.transitions if t["subject_id"] == "tally-push"] == [
        "missing"
    ]
    for days in (10, 20):  # stays missing, with no new transition and no drop-out
        again = check_once(store, org, start + timedelta(days=days))
        assert [f.status for f in again.findings if f.subject_kind == "heartbeat"] == ["missing"]
        assert not [t for t in again.transitions if t["subject_id"] == "tally-push"]


def test_heartbeats_of_a_process(store: Store, org: Org) -> None:
    now = utcnow()
    record_heartbeat(store, org, "tally-push", "start", now - timedelta(minutes=3))
    running = next(f for f in check_once(store, org, now).findings if f.subject_kind == "heartbeat")
    assert (running.status, running.ok) == ("running", True)
    record_heartbeat(store, org, "tally-push", "fail", now - timedelta(minutes=1))
    failed = next(f for f in check_once(store, org, now).findings if f.subject_kind == "heartbeat")
    assert failed.status == "failed"
    assert failed.reason.startswith("the job reported failure at ")
    with pytest.raises(NotFoundError, match="heartbeat 'tally' names no output, metric or process"):
        record_heartbeat(store, org, "tally", "success", now)


def test_a_schedule_goes_late_then_missed_then_recovers(store: Store, org: Org) -> None:
    """Late within grace is no event; missed is stamped at the window's end; a push recovers."""
    day = datetime(2026, 6, 21, tzinfo=UTC)

    def hm(hour: int, minute: int) -> datetime:
        return day + timedelta(hours=hour, minutes=minute)

    push_metric(store, org, "calls-answered", 91, hm(7, 1), hm(7, 1))
    for now in (hm(10, 50), hm(11, 10), hm(11, 40)):
        check_once(store, org, now)
    push_metric(store, org, "calls-answered", 94, hm(11, 45), hm(11, 45))
    check_once(store, org, hm(11, 50))
    with store.read() as conn:
        rows = conn.execute(
            select(events.c.kind, events.c.occurred_at)
            .where(events.c.subject_id == "calls-answered")
            .order_by(events.c.id)
        ).all()
        moves = conn.execute(
            select(watch_transitions.c.from_status, watch_transitions.c.to_status)
            .where(watch_transitions.c.subject_id == "calls-answered")
            .order_by(watch_transitions.c.id)
        ).all()
    assert [tuple(r) for r in moves] == [("up", "late"), ("late", "missed"), ("missed", "up")]
    assert [tuple(r) for r in rows] == [("missed_run", hm(11, 30)), ("recovered", hm(11, 45))]


ORG_WITH_METRICS = """
name: Sneeze It
seats:
  coo: {title: COO, kind: human}
  tally: {title: Scorecard keeper, kind: agent, owner: coo, reports_to: coo}
metrics:
  leads-booked: {owner: tally, target: 12, max_age: 6h}
  ad-spend-pacing: {owner: tally, target: 105, direction: at_most}
"""


def test_unscheduled_metrics_go_stale_by_max_age(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(ORG_WITH_METRICS)
    org = load_org(path)
    store = open_store(db_url)
    try:
        now = utcnow()
        push_metric(store, org, "leads-booked", 14, now - timedelta(hours=7), now)
        card = {r["metric"]: r for r in scorecard(store, org, now)}
        assert card["leads-booked"]["status"] == "stale"
        assert card["leads-booked"]["reason"] == "the last value is 7h old, over its max_age of 6h"
        assert card["leads-booked"]["met"] is True
        assert card["ad-spend-pacing"]["status"] == "missing"
        push_metric(store, org, "ad-spend-pacing", 110, now, now)
        card = {r["metric"]: r for r in scorecard(store, org, now)}
        assert (card["ad-spend-pacing"]["status"], card["ad-spend-pacing"]["met"]) == (
            "fresh",
            False,
        )
    finally:
        store.dispose()


def test_a_publish_newer_than_the_file_is_what_is_read(store: Store, org: Org) -> None:
    now = utcnow()
    write_dash(org, "2026-13-45", now - timedelta(minutes=10))
    body = {"generated_at": iso(now), "clients": ["Acme Dental"], "total_spend": 1}
    assert publish(store, org, "dash-analysis", json.dumps(body).encode(), now).status == "fresh"
    finding = next(
        f for f in check_once(store, org, now).findings if f.subject_id == "dash-analysis"
    )
    assert (finding.status, finding.source) == ("fresh", "the content published for dash-analysis")


def test_a_file_restamped_over_passes_is_frozen(store: Store, org: Org) -> None:
    now = utcnow()
    write_sample_state(org, now)
    statuses = []
    for hours_ago in (3, 2, 1):
        at = now - timedelta(hours=hours_ago)
        write_dash(org, iso(at), at)  # same numbers, a newer time each pass
        report = check_once(store, org, now)
        statuses.append(next(f for f in report.findings if f.subject_id == "dash-analysis"))
    assert [f.status for f in statuses] == ["fresh", "fresh", "frozen"]
    message = statuses[-1].message()
    assert "old data re-stamped as new; its data is 1h old; last good" in message
    assert dash_events(store) == [("frozen", now - timedelta(hours=1))]
