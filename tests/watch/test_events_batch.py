"""``record_events`` (added for the watcher's batches) keeps ``record_event``'s contract."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from orgplane.respond.events import FailureEvent, record_event, record_events
from orgplane.store.engine import open_store
from orgplane.store.tables import events

AT = datetime(2026, 6, 21, 7, 30, tzinfo=UTC)


def event(key: str | None, subject: str = "leads-booked") -> FailureEvent:
    return FailureEvent(
        kind="missed_run",
        occurred_at=AT,
        subject_kind="metric",
        subject_id=subject,
        seat_id="tally",
        message=f"metric {subject} (seat tally) is missed",
        dedupe_key=key,
    )


def test_batch_ids_in_order_and_repeats_are_none(db_url: str) -> None:
    store = open_store(db_url)
    try:
        with store.write() as conn:
            before = record_event(conn, event("k1"))
            ids = record_events(
                conn, [event("k1"), event("k2"), event(None), event("k2"), event("k3", "calls")]
            )
        assert before is not None
        assert ids[0] is None and ids[3] is None
        assert all(isinstance(i, int) for i in (ids[1], ids[2], ids[4]))
        assert len(set(ids[1:3] + ids[4:])) == 3
        with store.read() as conn:
            rows = conn.execute(select(events.c.id, events.c.dedupe_key, events.c.subject_id)).all()
        assert sorted(r.dedupe_key or "" for r in rows) == ["", "k1", "k2", "k3"]
        assert dict((r.id, r.subject_id) for r in rows)[ids[4]] == "calls"
        with store.read() as conn:
            assert record_events(conn, []) == []
    finally:
        store.dispose()
