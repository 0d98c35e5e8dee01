"""Decisions stored on a real store (SQLite and PostgreSQL): one per open signature, repeats
update it, a recovery closes it, and two deciders never decide an event twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.respond.decisions import (
    Outcome,
    acknowledge,
    decide_pending,
    get_decision,
    list_decisions,
    state_of,
    undecided_count,
)
from orgplane.respond.events import EventKind, FailureEvent, SubjectKind, record_event
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import decision_events, decisions, runs
from orgplane.store.types import utcnow


def _event(
    kind: EventKind,
    subject_kind: SubjectKind = "output",
    subject_id: str = "dash-analysis",
    **fields: object,
) -> FailureEvent:
    return FailureEvent(
        kind=kind,
        occurred_at=utcnow(),
        subject_kind=subject_kind,
        subject_id=subject_id,
        message=f"{subject_id} is {kind}",
        **fields,  # type: ignore[arg-type]
    )


def _record(store: Store, *batch: FailureEvent) -> list[int]:
    with store.write() as conn:
        return [record_event(conn, e) or 0 for e in batch]


def _run(store: Store, run_id: str, process_id: str, seat_id: str) -> None:
    with store.write() as conn:
        conn.execute(
            insert(runs).values(
                id=run_id,
                process_id=process_id,
                batch=run_id,
                seat_id=seat_id,
                status="failed",
                stages=[],
                records_total=0,
                records_digest="",
                created_at=utcnow(),
            )
        )


def _decide(store: Store, org: Org) -> list[Outcome]:
    with store.write() as conn:
        return decide_pending(conn, org)


def test_a_stale_output_is_skipped_and_flagged_by_its_own_rule(store: Store, org: Org) -> None:
    [event_id] = _record(store, _event("stale", seat_id="dash"))
    [outcome] = _decide(store, org)
    assert (outcome.event_id, outcome.effect) == (event_id, "opened")
    with store.read() as conn:
        row = get_decision(conn, outcome.decision_id or 0)
    assert (row["tier"], row["action"], row["notify"]) == ("flag", "skip_and_flag", "coo")
    assert row["event_ids"] == [event_id]
    assert row["latency_ms"] >= 0 and row["decided_at"] >= row["deadline"] - timedelta(hours=18)
    line = Path(row["rule"].rsplit(":", 1)[0]).read_text().splitlines()
    assert line[int(row["rule"].rsplit(":", 1)[1]) - 1].strip().startswith("urgency: flag")
    assert _decide(store, org) == []  # decided once: nothing is pending any more


def test_repeats_update_one_open_decision_and_a_recovery_closes_it(store: Store, org: Org) -> None:
    first = _record(store, _event("stale"), _event("stale"))
    _decide(store, org)
    third = _record(store, _event("stale"))
    [repeat] = _decide(store, org)
    assert repeat.effect == "repeated"
    with store.read() as conn:
        row = get_decision(conn, repeat.decision_id or 0)
        assert row["repeats"] == 2 and row["event_ids"] == [*first, *third]
        assert row["last_event_id"] == third[0]
    _record(store, _event("recovered"))
    [closing] = _decide(store, org)
    assert (closing.effect, closing.decision_id) == ("closed", repeat.decision_id)
    with store.read() as conn:
        assert state_of(get_decision(conn, repeat.decision_id or 0), utcnow()) == "closed"
        assert list_decisions(conn) == []
    _record(store, _event("stale"))
    [again] = _decide(store, org)
    assert again.effect == "opened" and again.decision_id != repeat.decision_id


def test_an_unhandled_error_of_a_run_escalates_to_the_seat_owner(store: Store, org: Org) -> None:
    _run(store, "r1", "nick-prospecting", "nick")
    _record(store, _event("unhandled_error", "run", "r1", seat_id="nick", run_id="r1"))
    _record(store, _event("handled_error", "run", "r1", seat_id="nick", run_id="r1"))
    escalated, handled = _decide(store, org)
    with store.read() as conn:
        row = get_decision(conn, escalated.decision_id or 0)
        assert (row["tier"], row["action"], row["notify"]) == ("owner-now", "escalate", "ceo")
        assert get_decision(conn, handled.decision_id or 0)["tier"] == "low"


def test_an_event_no_tier_covers_escalates_now_and_says_so(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(
        "name: T\nseats:\n  boss: {title: Boss, kind: human}\n"
        "  bot: {title: Bot, kind: agent, owner: boss}\n"
    )
    org, store = load_org(path), open_store(db_url)
    try:
        _record(store, _event("crash", "seat", "bot", seat_id="bot"))
        [outcome] = _decide(store, org)
        with store.read() as conn:
            row = get_decision(conn, outcome.decision_id or 0)
        assert (row["tier"], row["action"], row["notify"]) == (None, "escalate", "boss")
        assert "none declared" in row["rule"] and row["deadline"] <= row["decided_at"]
    finally:
        store.dispose()


def test_an_acknowledgement_silences_until_the_tier_ack_timeout(store: Store, org: Org) -> None:
    _run(store, "r9", "pepper-triage", "pepper")
    _record(store, _event("handled_error", "run", "r9", seat_id="pepper", run_id="r9"))
    [outcome] = _decide(store, org)
    now = utcnow()
    with store.write() as conn:
        row = get_decision(conn, outcome.decision_id or 0)
        assert row["tier"] == "high" and state_of(row, now) == "live"
        acked = acknowledge(conn, org, row["id"], "on it", now=now)
    assert acked["acked_until"] == now + timedelta(minutes=30)  # high's ack_timeout
    assert acked["ack_note"] == "on it"
    assert state_of(acked, now + timedelta(minutes=29)) == "acknowledged"
    assert state_of(acked, now + timedelta(minutes=30)) == "live"


def test_two_deciders_never_decide_an_event_twice(db_url: str, org: Org) -> None:
    first, second = open_store(db_url), open_store(db_url)
    try:
        subjects = [f"subject-{i % 7}" for i in range(120)]
        _record(first, *(_event("stale", "output", s) for s in subjects))
        seen: list[list[Outcome]] = [[], []]
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def decide(store: Store, into: list[Outcome]) -> None:
            try:
                barrier.wait()
                while True:
                    with store.write() as conn:
                        got = decide_pending(conn, org, limit=10)
                    if not got:
                        with store.read() as conn:
                            if undecided_count(conn) == 0:
                                return
                    into.extend(got)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [
            threading.Thread(target=decide, args=(s, out))
            for s, out in zip((first, second), seen, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        decided = [o.event_id for out in seen for o in out]
        assert sorted(decided) == sorted(set(decided)) and len(decided) == len(subjects)
        with first.read() as conn:
            assert conn.execute(select(func.count()).select_from(decision_events)).scalar() == 120
            rows = conn.execute(select(decisions.c.subject_id, decisions.c.repeats)).all()
        assert sorted(s for s, _ in rows) == sorted(set(subjects))  # one decision per signature
        assert sum(r + 1 for _, r in rows) == len(subjects)
    finally:
        first.dispose()
        second.dispose()
