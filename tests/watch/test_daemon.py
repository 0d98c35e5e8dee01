"""``orgplane watch`` as a real process: it notices a file crossing its threshold within two
intervals, records the transition once, survives the database connection going away, stops
cleanly on SIGTERM, and two watchers on one PostgreSQL record a transition once."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.pool import Pool

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import ensure_synced
from orgplane.store.tables import events, watch_states, watch_transitions
from orgplane.store.types import utcnow
from orgplane.watch.check import check_once
from orgplane.watch.sample import write_sample_state
from tests.conftest import PG_URL
from tests.daemon_process import start_daemon, stop, wait_for
from tests.watch.conftest import iso, write_state

INTERVAL = 1.0
pytestmark = pytest.mark.slow


def start_watcher(org: Path, db: str) -> subprocess.Popen[str]:
    return start_daemon(org, db, interval="1s")


def count(store: Store, kind: str) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.subject_id == "dash-analysis", events.c.kind == kind)
            ).scalar_one()
        )


def first_pass_done(store: Store) -> bool:
    with store.read() as conn:
        return conn.execute(select(watch_states.c.status)).first() is not None


def write_dash(folder: Path, stamp: str, written: datetime) -> None:
    body = {"generated_at": stamp, "clients": ["Acme Dental"], "total_spend": 10}
    write_state(folder / "state" / "dash.json", json.dumps(body), written)


@pytest.fixture
def watched(agency: Path) -> Path:
    write_sample_state(load_org(agency), utcnow())
    return agency


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[str, str]]:
    """The test's database URL tagged with an application name (to find its connections)."""
    name = f"watch-{uuid.uuid4().hex[:8]}"
    if db_url.startswith("postgresql"):
        yield f"{db_url}&application_name={name}", name
    else:
        yield db_url, name


def restart_connections(db_url: str, name: str) -> None:
    """Cut the watcher off its database for a moment."""
    if db_url.startswith("postgresql"):
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed and killed[0] >= 1
        return
    # SQLite: the database file (and its WAL) is moved away for two intervals, then back.
    path = Path(db_url.removeprefix("sqlite:///"))
    for p in list(path.parent.glob(path.name + "*")):
        p.rename(p.with_name(p.name + ".away"))
    time.sleep(2 * INTERVAL)
    assert not path.exists(), "the watcher must not create an empty database meanwhile"
    for p in path.parent.glob("*.away"):
        p.replace(p.with_name(p.name.removesuffix(".away")))


def test_watch_records_one_stale_event_and_survives_a_lost_connection(
    watched: Path, app_db: tuple[str, str]
) -> None:
    db, name = app_db
    store = open_store(db.split("&application_name=")[0])
    process = start_watcher(watched, db)
    try:
        wait_for(lambda: first_pass_done(store), timeout=30)
        now = utcnow()
        write_dash(watched.parent, iso(now - timedelta(hours=20)), now - timedelta(hours=20))
        took = wait_for(lambda: count(store, "stale") == 1, timeout=10)
        assert took <= 2 * INTERVAL + 0.5, f"stale seen after {took:.2f}s"
        time.sleep(2.5 * INTERVAL)  # more passes, still one event
        assert count(store, "stale") == 1

        restart_connections(db, name)
        write_dash(watched.parent, "2026-13-45", utcnow())
        wait_for(lambda: count(store, "corrupt") == 1, timeout=15)
        assert process.poll() is None, "the watcher died"
    finally:
        code, err = stop(process)
        store.dispose()
    assert code == 0, err
    assert "Traceback" not in err
    assert "stopped after" in err
    assert "output dash-analysis: fresh -> stale" in err
    if not db.startswith("postgresql"):
        assert "is gone (moved or deleted)" in err  # it noticed, said so, and carried on


def waiting_on_a_lock(application_name: str) -> bool:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = %s AND wait_event_type = 'Lock'",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.postgres
def test_two_watchers_on_one_postgresql_record_once(watched: Path, pg_schema_url: str) -> None:
    """The first watcher is held inside its write transaction, transition made, while the
    second runs its whole pass on the same change: the second must wait for the first and then
    see the transition as made. Without the advisory lock in save_findings it reads the old
    status and records the transition a second time (checked by removing the lock)."""
    from orgplane.watch.check import evaluate
    from orgplane.watch.daemon import Watcher
    from orgplane.watch.state import load_snapshot, save_findings

    store = open_store(pg_schema_url)
    org = load_org(watched)
    ensure_synced(store, org)
    check_once(store, org)  # both watchers start from the same fresh states
    now = utcnow()
    write_dash(watched.parent, iso(now - timedelta(hours=20)), now - timedelta(hours=20))

    name = f"second-{uuid.uuid4().hex[:8]}"
    second = Watcher(watched, f"{pg_schema_url}&application_name={name}", timedelta(seconds=1))
    thread = threading.Thread(target=second.run_pass, daemon=True)
    try:
        now = utcnow()
        with store.read() as conn:
            snap = load_snapshot(conn, now)
        findings = evaluate(org, snap, now)
        scheduled = frozenset(o.id for o in org.outputs.values() if o.schedule)
        with store.write() as conn:
            first = save_findings(conn, findings, now, scheduled, snap.priors)
            assert [t["to_status"] for t in first if t["subject_id"] == "dash-analysis"] == [
                "stale"
            ]
            thread.start()
            wait_for(lambda: waiting_on_a_lock(name) or not thread.is_alive(), timeout=20)
            time.sleep(0.3)  # still holding: the second stays blocked
        thread.join(30)
        assert not thread.is_alive()
        assert second.passes == 1
        with store.read() as conn:
            rows = conn.execute(
                select(watch_transitions.c.to_status).where(
                    watch_transitions.c.subject_id == "dash-analysis"
                )
            ).all()
        assert [r.to_status for r in rows] == ["stale"]
        assert count(store, "stale") == 1
    finally:
        second.stop()
        store.dispose()


def test_an_unreachable_database_costs_one_line_per_pass_and_a_retry(
    watched: Path, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher's pass loop, in process: a refused connection is logged, never raised, and
    the next pass against a reachable database works."""
    from orgplane.watch.daemon import Watcher

    caplog.set_level(logging.INFO, logger="orgplane.watch")
    if db_url.startswith("postgresql"):
        unreachable = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
    else:
        unreachable = f"sqlite:///{tmp_path / 'not-yet' / 'orgplane.db'}"
    watcher = Watcher(watched, unreachable, timedelta(seconds=1))
    watcher.run_pass()
    watcher.run_pass()
    assert watcher.passes == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "orgplane.watch"]
    assert len(lines) == 2
    assert all(line.startswith("pass skipped: ") for line in lines), lines
    assert all("retrying in 1s" in line for line in lines)
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    caplog.clear()
    watcher.db = db_url
    watcher.run_pass()
    assert watcher.passes == 1
    assert not [r for r in caplog.records if r.getMessage().startswith("pass skipped")]


def integrity(path: Path) -> list[str]:
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


def test_a_store_deleted_mid_pass_and_restored_never_inherits_the_old_log(
    watched: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store is deleted while a pass has it open (after its first connection, so every
    commit of the pass lands in a log whose main file is gone), then an older backup is
    restored under the same name. The next pass must move the orphaned -wal/-shm aside and
    leave the restored store sound; replaying them into the older file damages it (database
    disk image is malformed) while the watcher carries on."""
    from orgplane.watch.daemon import Watcher

    caplog.set_level(logging.INFO, logger="orgplane.watch")
    path = tmp_path / "orgplane.db"
    backup = tmp_path / "backup.db"
    open_store(f"sqlite:///{path}").dispose()  # migrated and empty: the backup is older
    shutil.copy(path, backup)

    deleted: list[bool] = []

    def delete_once(*_args: object) -> None:
        if not deleted:
            path.unlink()
            deleted.append(True)

    watcher = Watcher(watched, f"sqlite:///{path}", timedelta(seconds=1))
    watcher.run_pass()  # the store grows past the backup: org synced, every state saved

    def retitle(document: dict) -> None:  # type: ignore[type-arg]
        for seat in document["seats"].values():
            seat["title"] = f"{seat['title']} ({'x' * 200})"

    edit_org_file(watched, retitle)  # so the next pass writes a lot
    event.listen(Pool, "checkout", delete_once)
    try:
        watcher.run_pass()  # every commit of this pass lands in a log whose file is gone
    finally:
        event.remove(Pool, "checkout", delete_once)
    assert deleted and watcher.passes == 2
    assert not path.exists()
    assert Path(f"{path}-wal").stat().st_size > 0, "the pass left its log behind"

    watcher.run_pass()  # the store is gone: said so, nothing created
    assert not path.exists()
    shutil.copy(backup, path)  # restored from the backup
    watcher.run_pass()
    watcher.run_pass()

    assert watcher.passes == 4
    assert integrity(path) == ["ok"]
    orphans = sorted(p.name for p in tmp_path.glob("orgplane.db-*.orphaned-*"))
    assert [name.split(".orphaned-")[0] for name in orphans] == [
        "orgplane.db-shm",
        "orgplane.db-wal",
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any("is gone (moved or deleted)" in m for m in messages)
    assert any("moved orgplane.db-" in m and "aside" in m for m in messages)


def damage(path: Path) -> None:
    """Scribble over b-tree pages behind the header, as a bad disk or a bad restore would."""
    raw = bytearray(path.read_bytes())
    raw[4096 : 4096 * 8] = b"\xa5" * (4096 * 7)
    path.write_bytes(bytes(raw))


def test_a_pass_that_finds_the_store_damaged_says_so_and_stops_writing(
    watched: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from orgplane.watch.daemon import Watcher

    caplog.set_level(logging.INFO, logger="orgplane.watch")
    path = tmp_path / "orgplane.db"
    good = tmp_path / "good.db"
    watcher = Watcher(watched, f"sqlite:///{path}", timedelta(seconds=1))
    watcher.run_pass()
    assert watcher.passes == 1
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM INTO ?", (str(good),))
    damaged = tmp_path / "damaged.db"
    shutil.copy(path, damaged)
    damage(damaged)
    damaged.replace(path)  # a damaged copy takes its place between passes
    frozen = path.read_bytes()

    watcher.run_pass()
    watcher.run_pass()
    assert watcher.passes == 1
    assert path.read_bytes() == frozen, "a damaged store was written to"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all("store is damaged, not writing to it" in r.getMessage() for r in errors)
    assert all("restore it from a backup" in r.getMessage() for r in errors)

    shutil.copy(good, path)  # restored: the watcher goes on
    watcher.run_pass()
    assert watcher.passes == 2
    assert integrity(path) == ["ok"]


def test_a_url_that_can_never_work_stops_the_watcher_before_its_first_pass(
    watched: Path,
) -> None:
    from orgplane.errors import DatabaseUrlError
    from orgplane.watch.daemon import Watcher

    watcher = Watcher(watched, "postgresql://", timedelta(seconds=1))
    with pytest.raises(DatabaseUrlError, match="names no server"):
        watcher.run()
    assert watcher.passes == 0


def test_the_live_log_of_another_process_is_never_moved_aside(
    watched: Path, tmp_path: Path
) -> None:
    """Another process keeps the store open and grows it between passes (its checkpoints
    rewrite the file's header while its -wal stays live): nothing is moved aside, nothing lost."""
    from orgplane.watch.daemon import Watcher

    path = tmp_path / "orgplane.db"
    watcher = Watcher(watched, f"sqlite:///{path}", timedelta(seconds=1))
    watcher.run_pass()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("CREATE TABLE other_data(x)")
        for _ in range(3):
            other.execute("BEGIN IMMEDIATE")
            other.executemany("INSERT INTO other_data VALUES (randomblob(3000))", [()] * 300)
            other.execute("COMMIT")
            other.execute("PRAGMA wal_checkpoint(PASSIVE)")
            assert Path(f"{path}-wal").exists()
            watcher.run_pass()
        assert watcher.passes == 4
        assert other.execute("SELECT count(*) FROM other_data").fetchone()[0] == 900
    finally:
        other.close()
    assert not list(tmp_path.glob("*.orphaned-*"))
    assert integrity(path) == ["ok"]
