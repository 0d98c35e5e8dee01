"""Syncing the declared org into the store, on SQLite and PostgreSQL: edits land, history stays."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.store.engine import open_store
from orgplane.store.sync import ensure_synced, sync_org
from orgplane.store.tables import events, org_changes, org_syncs, outputs, seats
from orgplane.store.types import utcnow
from tests.store.statements import recording


def test_first_sync_adds_everything_and_second_changes_nothing(agency: Path, db_url: str) -> None:
    org = load_org(agency)
    store = open_store(db_url)
    try:
        first = sync_org(store, org)
        assert ("seat", "radar") in first.added
        assert len(first.added) == len(org.seats) + len(org.outputs) + len(org.processes) + len(
            org.metrics
        )
        second = sync_org(store, org)
        assert second.changes == 0
        with store.read() as conn:
            rows = {r.id: r for r in conn.execute(select(seats))}
            assert rows["jeff"].status == "retired"
            assert rows["radar"].owner == "ceo"
            assert rows["radar"].declared["inputs"]["dash-analysis"]["protocol"] == "skip_and_flag"
            syncs = conn.execute(select(org_syncs)).all()
            assert [(r.id, r.changes) for r in syncs] == [(first.sync_id, first.changes)]
            assert second.sync_id == 0
    finally:
        store.dispose()


def test_removed_seat_is_retired_and_its_history_kept(agency: Path, db_url: str) -> None:
    store = open_store(db_url)
    try:
        sync_org(store, load_org(agency))
        with store.write() as conn:
            event_id = record_event(
                conn,
                FailureEvent(
                    kind="stale",
                    occurred_at=utcnow(),
                    subject_kind="output",
                    subject_id="arin-coaching",
                    seat_id="arin",
                    message="arin-coaching is 20h old",
                ),
            )

        def drop_arin(document: dict) -> None:  # type: ignore[type-arg]
            del document["seats"]["arin"]
            del document["outputs"]["arin-coaching"]
            del document["seats"]["radar"]["inputs"]["arin-coaching"]
            document["seats"]["coo"]["capabilities"].append("call-coaching")

        def retitle_dash(document: dict) -> None:  # type: ignore[type-arg]
            document["seats"]["dash"]["title"] = "Analytics and pacing"

        edit_org_file(agency, drop_arin)
        report = sync_org(store, edit_org_file(agency, retitle_dash))
        assert ("seat", "arin") in report.removed
        assert ("output", "arin-coaching") in report.removed
        assert ("seat", "dash") in report.updated

        with store.read() as conn:
            arin = conn.execute(select(seats).where(seats.c.id == "arin")).one()
            assert arin.status == "retired" and arin.removed_at is not None
            assert arin.declared["title"] == "Call-centre coach"  # the last declaration survives
            output = conn.execute(select(outputs).where(outputs.c.id == "arin-coaching")).one()
            assert output.status == "removed"
            event = conn.execute(select(events).where(events.c.id == event_id)).one()
            assert event.seat_id == "arin"  # runtime history still points at the seat
            changes = {
                (c.entity, c.entity_id): c.change
                for c in conn.execute(
                    select(org_changes).where(org_changes.c.sync_id == report.sync_id)
                )
            }
            assert changes[("seat", "arin")] == "retired"
            assert changes[("seat", "dash")] == "updated"
            dash = conn.execute(select(seats).where(seats.c.id == "dash")).one()
            assert dash.title == "Analytics and pacing"

        # Declaring the seat again brings it back to active, with the same row.
        def restore(document: dict) -> None:  # type: ignore[type-arg]
            document["seats"]["arin"] = {
                "title": "Call-centre coach",
                "kind": "agent",
                "reports_to": "coo",
                "owner": "coo",
            }

        report = sync_org(store, edit_org_file(agency, restore))
        assert ("seat", "arin") in report.updated
        with store.read() as conn:
            arin = conn.execute(select(seats).where(seats.c.id == "arin")).one()
            assert arin.status == "active" and arin.removed_at is None
    finally:
        store.dispose()


def test_event_dedupe_key_records_a_transition_once(db_url: str) -> None:
    store = open_store(db_url)
    try:
        event = FailureEvent(
            kind="missed_run",
            occurred_at=utcnow(),
            subject_kind="metric",
            subject_id="leads-booked",
            message="the 12:00 push is missing",
            dedupe_key="metric:leads-booked:missed:2026-06-21T12:00",
        )
        with store.write() as conn:
            first = record_event(conn, event)
        with store.write() as conn:
            second = record_event(conn, event)
        assert first is not None and second is None
        with store.read() as conn:
            assert len(conn.execute(select(events)).all()) == 1
    finally:
        store.dispose()


def _data_version(path: str) -> Callable[[], int]:
    """SQLite's own count of commits by other connections, read on one held connection."""
    conn = sqlite3.connect(path)

    def read() -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    return read


def test_an_unchanged_org_costs_one_read_and_no_write(agency: Path, db_url: str) -> None:
    """Reopening a current store and syncing the same org again writes nothing, on both
    backends: no write transaction, no write statement, and (SQLite) no commit at all."""
    org = load_org(agency)
    store = open_store(db_url)
    try:
        assert ensure_synced(store, org) is not None  # the first time, it syncs
    finally:
        store.dispose()
    version = _data_version(db_url.removeprefix("sqlite:///")) if "sqlite" in db_url else None
    before = version() if version else 0
    with recording() as recorded:
        store = open_store(db_url)  # migrate at head, WAL pragma: all current
        try:
            assert ensure_synced(store, load_org(agency)) is None
        finally:
            store.dispose()
    assert recorded.statements, "the recorder saw nothing: it would prove nothing"
    assert recorded.writes == []
    if version:
        assert version() == before


def test_an_edited_org_is_synced_once(agency: Path, db_url: str) -> None:
    store = open_store(db_url)
    try:
        ensure_synced(store, load_org(agency))

        def retitle_dash(document: dict) -> None:  # type: ignore[type-arg]
            document["seats"]["dash"]["title"] = "Analytics and pacing"

        edited = edit_org_file(agency, retitle_dash)
        report = ensure_synced(store, edited)
        assert report is not None and report.updated == [("seat", "dash")]
        with recording() as recorded:
            assert ensure_synced(store, load_org(agency)) is None
        assert recorded.writes == []
        with store.read() as conn:
            assert conn.execute(select(seats.c.title).where(seats.c.id == "dash")).scalar_one() == (
                "Analytics and pacing"
            )
    finally:
        store.dispose()


def test_a_store_synced_with_another_org_is_synced_again(agency: Path, db_url: str) -> None:
    """The digest belongs to the store: a second org file (or the same org after a plain
    ``sync_org``) is never mistaken for the one last synced."""
    store = open_store(db_url)
    try:
        org = load_org(agency)
        sync_org(store, org)
        assert ensure_synced(store, org) is None  # sync_org recorded the digest too
        other = org.model_copy(update={"name": "Another agency"})
        assert ensure_synced(store, other) is not None
        assert ensure_synced(store, other) is None
        assert ensure_synced(store, org) is not None
    finally:
        store.dispose()
