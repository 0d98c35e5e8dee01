"""Hand-offs on both backends: a record given to a person by design is settled ``handed_off``
(no failure event, the run finishes), waits in its seat's queue, and comes back into the run at
the next stage when the person returns it; an item older than the seat answers is one event."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from orgplane.errors import UsageError
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.runs import check, load_process, run_status
from orgplane.runs.handoffs import queue, resolve
from orgplane.runs.manual import record_checkpoint
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import events, handoffs, manual_checkpoints, run_records
from orgplane.store.types import utcnow
from orgplane.watch.check import check_once

STAGES = Path(__file__).parent / "handoff_stages.py"

ORG = """\
name: Hand-off org
seats:
  boss:
    title: Boss
    kind: human
    capabilities: [approve]
  lead:
    title: Client lead
    kind: human
    reports_to: boss
    answers_within: 4h
    capabilities: [exceptions]
  former:
    title: Former lead
    kind: human
    status: retired
  bot:
    title: Triage bot
    kind: agent
    reports_to: lead
    owner: lead
    capabilities: [triage]
processes:
  triage:
    seat: bot
    module: {module}
    stages:
      - name: fetch
      - name: classify
      - name: label
        kind: effectful
  manual:
    seat: bot
    stages:
      - name: fetch
      - name: post
        kind: effectful
"""


@pytest.fixture
def org(tmp_path: Path) -> Org:
    folder = tmp_path / "org"
    folder.mkdir()
    path = folder / "org.yaml"
    path.write_text(ORG.format(module=STAGES))
    return load_org(path)


def batch(n: int, unusual: dict[int, str | None]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"id": i} for i in range(1, n + 1)]
    for ident, to in unusual.items():
        rows[ident - 1]["unusual"] = True
        if to is not None:
            rows[ident - 1]["to"] = to
    return rows


def states(store: Store, run_id: str) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(
            select(run_records.c.state, func.count())
            .where(run_records.c.run_id == run_id)
            .group_by(run_records.c.state)
        ).all()
    return {str(state): int(count) for state, count in rows}


def event_count(store: Store, kind: str | None = None) -> int:
    query = select(func.count()).select_from(events)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    with store.read() as conn:
        return int(conn.execute(query).scalar_one())


def labels(org: Org) -> dict[str, list[Any]]:
    path = org.base_dir / "labels.log"
    found: dict[str, list[Any]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        _, key, given = line.split(" ", 2)
        found.setdefault(key, []).append(json.loads(given))
    return found


def test_fifty_records_three_handed_off_finish_with_no_failure_event(
    org: Org, store: Store
) -> None:
    process = load_process(org, "triage", store, chunk=20)
    status = process.run(batch(50, {7: None, 23: None, 41: None}), batch="b1")
    assert status.state == "finished"
    assert states(store, status.run_id) == {"done": 47, "handed_off": 3}
    assert status.stage("classify").handed_off == 3 and status.stage("label").done == 47
    assert [(s.handed_off, s.pending) for s in status.stages[1:]] == [(3, 0), (3, 0)]
    assert event_count(store) == 0
    assert check(store, status.run_id) == []
    with store.read() as conn:
        items = queue(conn, org, "lead", utcnow())
        assert queue(conn, org, "boss", utcnow()) == []
    assert [(i.record_key, i.stage, i.from_seat) for i in items] == [
        ("7", "classify", "bot"),
        ("23", "classify", "bot"),
        ("41", "classify", "bot"),
    ]
    assert all(i.reason == f"email {i.record_key} fits no bucket" for i in items)
    assert not any(i.during_failure or i.overdue for i in items)
    assert set(labels(org)) == {str(i) for i in range(1, 51)} - {"7", "23", "41"}


def test_returning_a_hand_off_continues_the_record_at_the_next_stage(
    org: Org, store: Store
) -> None:
    process = load_process(org, "triage", store, chunk=20)
    run_id = process.run(batch(10, {4: None, 8: None}), batch="b1").run_id
    with store.read() as conn:
        first, second = queue(conn, org, "lead", utcnow())
    resolve(
        store, first.id, "return", output={"id": 4, "bucket": "vip"}, output_given=True, by="lead"
    )
    assert run_status(store, run_id).state == "running"  # the finished run has work again
    label = run_status(store, run_id).stage("label")
    assert (label.handed_off, label.pending) == (1, 1)  # 4's label is to do again, 8's is not
    status = process.work(run_id)
    assert status.state == "finished"
    assert states(store, run_id) == {"done": 9, "handed_off": 1}
    assert labels(org)["4"] == [{"bucket": "vip", "id": 4}]  # the person's output, once
    assert "8" not in labels(org)
    assert check(store, run_id) == []

    resolved = resolve(store, second.id, "done", note="answered the client myself", by="lead")
    assert resolved.outcome == "done" and resolved.resolved_by == "lead"
    assert states(store, run_id) == {"done": 9, "handed_off": 1}
    with store.read() as conn:
        assert queue(conn, org, None, utcnow()) == []
    with pytest.raises(UsageError, match="already resolved"):
        resolve(store, second.id, "done")
    with pytest.raises(UsageError, match="needs --output"):
        resolve(store, first.id, "return")


def test_a_hand_off_to_a_seat_that_is_not_an_active_person_stops_the_run(
    org: Org, store: Store
) -> None:
    process = load_process(org, "triage", store)
    status = process.run(batch(5, {3: "bot"}), batch="b1")
    assert status.state == "failed" and status.stopped is not None
    assert status.stopped["record"] == "3" and status.stopped["error_type"] == "HandOffRefused"
    assert "'bot' is an agent seat" in status.stopped["message"]
    status = load_process(org, "triage", store).run(batch(5, {3: "former"}), batch="b2")
    assert "'former' is retired" in (status.stopped or {})["message"]
    with store.read() as conn:
        assert int(conn.execute(select(func.count()).select_from(handoffs)).scalar_one()) == 0


def test_an_overdue_hand_off_is_one_event_for_two_watchers_and_two_passes(
    org: Org, store: Store, db_url: str
) -> None:
    process = load_process(org, "triage", store)
    process.run(batch(3, {2: None}), batch="b1")
    process.run(batch(3, {1: "boss"}), batch="b2")  # boss declares no answers_within
    now = utcnow()
    assert check_once(store, org, now + timedelta(hours=3)).overdue_handoffs == 0
    other = open_store(db_url)  # a second watcher on the same store
    try:
        later = now + timedelta(hours=5)
        counts = [check_once(s, org, later).overdue_handoffs for s in (store, other, store)]
        assert counts == [1, 0, 0]
    finally:
        other.dispose()
    assert event_count(store, "overdue_handoff") == 1 and event_count(store) == 1
    with store.read() as conn:
        event = conn.execute(select(events)).one()
        item = conn.execute(select(handoffs).where(handoffs.c.to_seat == "lead")).one()
        assert [i.overdue for i in queue(conn, org, "lead", later)] == [True]
    assert item.overdue_event_id == event.id
    assert (event.seat_id, event.run_id, event.record_key) == ("lead", "triage:b1", "2")
    assert event.dedupe_key == f"overdue_handoff:{item.id}"


def test_checkpoint_handoff_for_agents_that_are_not_python(org: Org, store: Store) -> None:
    from orgplane.runs.process import start_run

    run_id = start_run(store, org.processes["manual"], [{"id": 1}, {"id": 2}], batch="m1")
    with pytest.raises(UsageError, match="'bot' is an agent seat"):
        record_checkpoint(store, org, run_id, "1", "fetch", "handoff", to="bot", reason="odd")
    with pytest.raises(UsageError, match="'nobody' is not a seat"):
        record_checkpoint(store, org, run_id, "1", "fetch", "handoff", to="nobody", reason="odd")
    status = record_checkpoint(
        store, org, run_id, "1", "fetch", "handoff", to="lead", reason="odd one"
    )
    assert status.stage("fetch").handed_off == 1 and status.stage("post").handed_off == 1
    with pytest.raises(UsageError, match="handed off to a person"):
        record_checkpoint(store, org, run_id, "1", "fetch", "done", output={})
    record_checkpoint(store, org, run_id, "2", "fetch", "done", output={"id": 2})
    status = record_checkpoint(store, org, run_id, "2", "post", "done", output={"ok": True})
    assert status.state == "finished"  # the open hand-off does not keep the run open
    with store.read() as conn:
        item = conn.execute(select(handoffs)).one()
        logged = conn.execute(
            select(manual_checkpoints.c.action, manual_checkpoints.c.during_failure).order_by(
                manual_checkpoints.c.id
            )
        ).all()
    assert (item.to_seat, item.during_failure, item.from_seat) == ("lead", False, "bot")
    assert [tuple(r) for r in logged] == [("handoff", False), ("done", False), ("done", False)]
