"""The runner's SQL (orgplane.runs.statements) on both backends: every statement runs, and every
column written by the raw path reads back through SQLAlchemy as the same value, and the other
way round, with one encoding of "no output" / "no error" (SQL NULL, never JSON null)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, insert, select

from orgplane.org.models import Org
from orgplane.runs import Process, record_checkpoint, run_status
from orgplane.runs import statements as sql
from orgplane.runs.rawdb import RawDb
from orgplane.runs.statements import Checkpoint, RecordState, json_or_null
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints, run_records, runs

from .conftest import records

RUN_ID = "pipe:sql"
T0 = datetime(2026, 6, 21, 9, 30, 15, 123456, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
UNTIL = datetime.now(UTC).replace(microsecond=654321) + timedelta(hours=1)  # a live lease


def statements() -> dict[str, str]:
    """Every SQL text the module defines (its upper-case names), and upsert() of two rows."""
    found = {
        name: value
        for name, value in vars(sql).items()
        if name.isupper() and isinstance(value, str) and value.split()[0] in SQL_VERBS
    }
    found["upsert(2)"] = sql.upsert(2)
    return found


SQL_VERBS = {"INSERT", "UPDATE", "SELECT", "state"}  # FREE is a condition


def seed(db: RawDb) -> None:
    with db.transaction() as cursor:
        db.one(
            cursor,
            sql.INSERT_RUN,
            (
                RUN_ID,
                "pipe",
                "sql",
                "bot",
                '[{"name": "a", "kind": "pure"}]',
                3,
                "d" * 64,
                db.ts(T0),
            ),
        )
        db.one(cursor, sql.INSERT_RECORD, (RUN_ID, 1, "r1", '{"id": "r1"}', RecordState.ACTIVE))
        db.one(cursor, sql.INSERT_LEASED, (RUN_ID, 2, "r2", '{"id": "r2"}', "w1", db.ts(UNTIL)))
        db.one(cursor, sql.INSERT_RECORD, (RUN_ID, 3, "r3", "[1, 2]", RecordState.ACTIVE))


def test_every_statement_runs_and_does_what_it_says(store: Store) -> None:
    now = datetime.now(UTC)
    db = RawDb(store)
    try:
        seed(db)
        full = [RUN_ID, 1, "a", Checkpoint.STARTED, None, None, "k" * 32, 1, "w1", None]
        full += [db.ts(T0), db.ts(T0)]
        done = [RUN_ID, 1, "a", '{"n": 1}', 1, "w1", None, db.ts(T1)]
        params: dict[str, tuple[Any, ...]] = {
            "RUN_DIGEST": (RUN_ID,),
            "RUN_STATE": (RUN_ID,),
            "RUN_STAGES": (RUN_ID,),
            "RUN": (RUN_ID,),
            "CLAIMABLE": (RUN_ID, db.ts(now), 10),
            "LEASE": ("w2", db.ts(now + timedelta(minutes=1)), RUN_ID, 1),
            "UPSERT": tuple(full),
            "DONE": tuple(done),
            "upsert(2)": (*full[:2], "b", *full[3:], RUN_ID, 3, *full[2:]),
            "CHECKPOINTS": (RUN_ID, 1, 3),
            "COUNTS": (RUN_ID,),
            "WAITING": (RUN_ID,),
            "RENEW": (db.ts(now + timedelta(minutes=2)), RUN_ID, 1, 3, "w2"),
            "STILL_MINE": (RUN_ID, 1, "w2"),
            "SETTLE": (RecordState.DONE, RUN_ID, "w2", 1),
            "RELEASE": (RUN_ID, "w1"),
            "REMAINING": (RUN_ID,),
            "FAIL_RUN": ("failed", "r3", "a", '{"message": "m"}', RUN_ID),
            "FINISH": ("finished", db.ts(now), RUN_ID),
        }
        intent = (RUN_ID, 2, "a", "k" * 32, 1, "w2", None, db.ts(now))
        sqlite_only = {
            "INTENT": intent,
            "INTENT_AND_DONE": (*intent[:1], 3, "b", *intent[3:], 2, "a", '{"n": 2}', 1, "x"),
        }
        if db.sqlite:
            params.update(sqlite_only)
        done_statements = {"INSERT_RUN", "INSERT_RECORD", "INSERT_LEASED"}  # run by seed()
        assert set(statements()) - done_statements - {"FREE"} == set(params) | set(sqlite_only)
        results: dict[str, Any] = {}
        with db.transaction() as cursor:
            for name, args in params.items():  # in this order: each builds on the one before
                text = statements()[name]
                if name in ("LEASE", "SETTLE"):
                    text = text.format("?")
                found = db.one(cursor, text, args)
                results[name] = found.fetchall() if text.startswith("SELECT") else found.rowcount
    finally:
        db.close()
    assert results["RUN_STATE"] == [("running",)]
    assert [row[:2] for row in results["CLAIMABLE"]] == [(1, "r1"), (3, "r3")]  # r2 is leased
    assert results["LEASE"] == 1 and results["UPSERT"] == 1 and results["DONE"] == 1
    assert sorted((r[0], r[1], r[2]) for r in results["CHECKPOINTS"]) == [
        (1, "a", "done"),
        (1, "b", "started"),
        (3, "a", "started"),
    ]
    assert results["STILL_MINE"] == [(1,)] and results["RENEW"] == 1
    assert results["SETTLE"] == 1 and results["RELEASE"] == 1
    assert sorted(results["REMAINING"], key=str)[0][:2] == ("active", 2)
    assert results["FAIL_RUN"] == 1 and results["FINISH"] == 0  # failed: no longer running
    if store.dialect == "sqlite":
        assert results["INTENT"] == 1 and results["INTENT_AND_DONE"] == 2
    with store.read() as conn:
        run = conn.execute(select(runs).where(runs.c.id == RUN_ID)).one()
    assert (run.status, run.stopped_record, run.error) == ("failed", "r3", {"message": "m"})


def test_every_column_round_trips_between_the_raw_path_and_sqlalchemy(store: Store) -> None:
    db = RawDb(store)
    try:
        seed(db)
        raw_row = [RUN_ID, 1, "a", Checkpoint.FAILED, '{"n": [1, "é"]}', '{"type": "E"}']
        raw_row += ["k" * 32, 2, "w1", "person", db.ts(T0), db.ts(T1)]
        bare = [RUN_ID, 2, "a", Checkpoint.PENDING, None, None, None, 0, None, None, None]
        with db.transaction() as cursor:
            db.many(cursor, sql.UPSERT, [raw_row, [*bare, db.ts(T1)]])
    finally:
        db.close()
    # Raw -> SQLAlchemy: every column, typed.
    with store.read() as conn:
        got = {
            r.seq: r._asdict()
            for r in conn.execute(select(run_checkpoints).where(run_checkpoints.c.run_id == RUN_ID))
        }
        record = conn.execute(
            select(run_records).where(run_records.c.run_id == RUN_ID, run_records.c.seq == 2)
        ).one()
        run = conn.execute(select(runs).where(runs.c.id == RUN_ID)).one()
    assert got[1] == {
        "run_id": RUN_ID,
        "seq": 1,
        "stage": "a",
        "status": "failed",
        "output": {"n": [1, "é"]},
        "error": {"type": "E"},
        "idempotency_key": "k" * 32,
        "attempts": 2,
        "worker": "w1",
        "reconciled": "person",
        "started_at": T0,
        "updated_at": T1,
    }
    assert got[2]["output"] is None and got[2]["error"] is None and got[2]["started_at"] is None
    assert (record.key, record.input, record.lease_owner, record.lease_until) == (
        "r2",
        {"id": "r2"},
        "w1",
        UNTIL,
    )
    assert (run.stages, run.created_at, run.finished_at, run.error) == (
        [{"name": "a", "kind": "pure"}],
        T0,
        None,
        None,
    )

    # SQLAlchemy -> raw: the same row written the way manual checkpoints write it.
    with store.write() as conn:
        conn.execute(
            insert(run_checkpoints).values(
                run_id=RUN_ID,
                seq=3,
                stage="a",
                status=Checkpoint.HELD.value,
                output=json_or_null(None),
                error={"type": "E"},
                idempotency_key="k" * 32,
                attempts=2,
                worker="w1",
                reconciled="person",
                started_at=T0,
                updated_at=T1,
            )
        )
    db = RawDb(store)
    try:
        with db.snapshot() as cursor:
            columns = ", ".join(sql.CHECKPOINT_COLUMNS)
            text = f"SELECT {columns} FROM run_checkpoints WHERE run_id = ? AND seq = ?"
            stored = db.one(cursor, text, (RUN_ID, 3)).fetchone()
            row = dict(zip(sql.CHECKPOINT_COLUMNS, stored, strict=True))
            nulls = db.one(
                cursor,
                "SELECT seq FROM run_checkpoints WHERE run_id = ? AND output IS NULL ORDER BY seq",
                (RUN_ID,),
            ).fetchall()
    finally:
        db.close()
    assert row["output"] is None and db.json_out(row["error"]) == {"type": "E"}
    assert (row["status"], row["attempts"], row["reconciled"]) == ("held", 2, "person")
    assert (db.ts_out(row["started_at"]), db.ts_out(row["updated_at"])) == (T0, T1)
    assert [seq for (seq,) in nulls] == [2, 3]  # "no output" is SQL NULL on both paths


def test_manual_checkpoints_and_resumes_write_no_json_null(
    pipe: Process, org: Org, store: Store
) -> None:
    status = pipe.run(records(3, fail={2: {"draft": "FATAL:1"}}), batch="b1")
    assert status.state == "failed"
    record_checkpoint(store, org, "pipe:b1", "2", "draft", "redo")  # error cleared
    pipe.resume("pipe:b1")  # the run's error cleared, then it finishes
    with store.read() as conn:
        json_nulls = conn.execute(
            select(func.count())
            .select_from(run_checkpoints)
            .where(run_checkpoints.c.error.is_not(None), run_checkpoints.c.status == "done")
        ).scalar_one()
        run_error_is_null = conn.execute(
            select(func.count()).where(runs.c.id == "pipe:b1", runs.c.error.is_(None))
        ).scalar_one()
    assert json_nulls == 0 and run_error_is_null == 1
    assert run_status(store, "pipe:b1").state == "finished"


@pytest.mark.postgres
def test_two_manual_checkpoints_of_one_record_take_turns(pg_schema_url: str, org: Org) -> None:
    """A second writer holds the record (as a concurrent ``orgplane checkpoint`` would, in the
    middle of its transaction) and bumps the stage's attempts; the checkpoint started meanwhile
    must wait for it and count from its result. Without the lock it reads the old attempts,
    waits only at its own write, and loses the other's update."""
    from orgplane.runs import load_process
    from orgplane.store.engine import open_store
    from orgplane.store.sync import sync_org

    store = open_store(pg_schema_url)
    try:
        sync_org(store, org)
        process = load_process(org, "pipe", store)
        run_id = process.start(records(2), batch="m")
        record_checkpoint(store, org, run_id, "1", "validate", "failed", code="FLAKY")
        with psycopg.connect(pg_schema_url) as holder:
            holder_pid = holder.info.backend_pid
            holder.execute(
                "SELECT 1 FROM run_records WHERE run_id = %s AND key = '1' FOR UPDATE", (run_id,)
            )
            holder.execute(
                "UPDATE run_checkpoints SET attempts = attempts + 1 WHERE run_id = %s AND seq = 1",
                (run_id,),
            )
            outcome: list[BaseException | str] = []

            def second() -> None:
                try:
                    record_checkpoint(store, org, run_id, "1", "validate", "failed", code="FLAKY")
                    outcome.append("ok")
                except BaseException as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            deadline = time.monotonic() + 30
            with psycopg.connect(pg_schema_url, autocommit=True) as watcher:
                while not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    (holder_pid,),
                ).fetchone()[0]:  # type: ignore[index]
                    assert time.monotonic() < deadline and thread.is_alive(), outcome
                    time.sleep(0.01)
            holder.commit()
        thread.join(30)
        assert outcome == ["ok"]
        with store.read() as conn:
            attempts = conn.execute(
                select(run_checkpoints.c.attempts).where(
                    run_checkpoints.c.run_id == run_id, run_checkpoints.c.seq == 1
                )
            ).scalar_one()
        # 1 (first checkpoint) + 1 (the holder) + 1 (the second): the third failure of FLAKY
        # with retries: 2 stops the run, as the runner's third failed attempt would.
        assert attempts == 3
        status = run_status(store, run_id)
        assert status.state == "failed" and status.stopped is not None
        assert "retries exhausted" in str(status.stopped["summary"])
    finally:
        store.dispose()
