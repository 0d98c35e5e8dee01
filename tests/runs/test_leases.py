"""Leases: a dead worker's records are taken over after its lease, and a worker whose records
were taken writes nothing (compare-and-set), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from orgplane.org.models import Org
from orgplane.runs import Process, StageContext, check, load_process
from orgplane.runs.checkpoints import Buffer, idempotency_key
from orgplane.runs.leases import LeaseLost, claim
from orgplane.runs.rawdb import RawDb
from orgplane.runs.registry import StageSpec
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints, run_records
from orgplane.store.types import utcnow

from .conftest import records
from .test_runner import recent_events_of

SHORT = timedelta(seconds=0.3)


def test_a_dead_workers_records_are_taken_over(org: Org, store: Store) -> None:
    process = load_process(org, "pipe", store, lease=SHORT, chunk=5)
    run_id = process.start(records(12), batch="b1")
    ghost = RawDb(store)
    try:
        assert [c.seq for c in claim(ghost, run_id, "ghost", 5, SHORT).records] == [1, 2, 3, 4, 5]
    finally:
        ghost.close()  # the ghost never works them: it died holding them
    started = time.monotonic()
    status = process.work(run_id, worker="alive")
    assert status.state == "finished"
    assert time.monotonic() - started >= 0.2  # it waited for the ghost's lease to run out
    crashes = recent_events_of(store, "crash")
    assert [e["details"]["worker"] for e in crashes] == ["ghost"]
    with store.read() as conn:
        workers = conn.execute(select(run_checkpoints.c.worker).distinct()).scalars().all()
    assert workers == ["alive"]
    assert check(store, run_id) == []


def test_a_worker_whose_records_were_taken_writes_nothing(org: Org, store: Store) -> None:
    process = load_process(org, "pipe", store, lease=SHORT, chunk=5)
    run_id = process.start(records(3), batch="b1")
    slow, fast = RawDb(store), RawDb(store)
    try:
        assert len(claim(slow, run_id, "slow", 3, SHORT).records) == 3
        buffer = Buffer(slow, run_id, "slow", SHORT)
        buffer.hold([1, 2, 3])
        time.sleep(0.4)  # the slow worker stalls past its lease
        assert len(claim(fast, run_id, "fast", 3, SHORT).records) == 3
        buffer.put(2, "draft", "started", idempotency_key(run_id, "2", "draft"), 0, started=True)
        with pytest.raises(LeaseLost):
            buffer.flush()  # an effectful intent: the effect must not start
        buffer.clear()
        buffer.put(1, "validate", "done", idempotency_key(run_id, "1", "validate"), 1, '{"ok":1}')
        with pytest.raises(LeaseLost):
            buffer.flush()  # pure checkpoints of records no longer held
    finally:
        slow.close()
        fast.close()
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(run_checkpoints)).scalar_one() == 0


def test_a_slow_chunk_of_pure_stages_keeps_its_lease(org: Org, store: Store) -> None:
    """Pure rows wait for the end of the chunk, but the lease is renewed whenever a third of it
    has passed: a chunk slower than the lease is never taken over from a live worker."""
    seen: list[tuple[str, bool]] = []

    def fetch(record: Any, ctx: StageContext) -> dict[str, Any]:
        time.sleep(0.1)
        with store.read() as conn:
            lease_until = conn.execute(
                select(run_records.c.lease_until).where(
                    run_records.c.run_id == ctx.run_id, run_records.c.key == ctx.record_key
                )
            ).scalar_one()
        seen.append((ctx.record_key, lease_until is not None and lease_until > utcnow()))
        return {"fetched": record["id"]}

    def post(value: Any, ctx: StageContext) -> dict[str, Any]:
        return {"posted": value["fetched"], "key": ctx.idempotency_key}

    stages = {"fetch": StageSpec("fetch", fetch), "post": StageSpec("post", post)}
    lease = timedelta(seconds=0.6)
    process = Process(org, "manual", stages, store, lease=lease, chunk=10)  # 1 s > 0.6 s lease
    status = process.run(records(10), batch="b1")
    assert status.state == "finished"
    assert seen == [(str(i), True) for i in range(1, 11)]
    assert check(store, status.run_id) == []


def test_pure_done_rows_derive_their_idempotency_key(org: Org, store: Store) -> None:
    """A pure stage's done row stores no idempotency key (it is derived from run, record and
    stage); the key a stage reads and the key an effectful stage stores are the same function."""
    keys: dict[str, str] = {}

    def fetch(record: Any, ctx: StageContext) -> Any:
        keys[f"fetch {ctx.record_key}"] = ctx.idempotency_key
        return record

    def post(value: Any, ctx: StageContext) -> Any:
        keys[f"post {ctx.record_key}"] = ctx.idempotency_key
        return {"ok": True}

    stages = {"fetch": StageSpec("fetch", fetch), "post": StageSpec("post", post)}
    status = Process(org, "manual", stages, store).run(records(2), batch="b1")
    assert status.state == "finished"
    run_id = status.run_id
    for name in ("fetch", "post"):
        for key in ("1", "2"):
            assert keys[f"{name} {key}"] == idempotency_key(run_id, key, name)
    with store.read() as conn:
        stored = dict(
            conn.execute(
                select(run_checkpoints.c.stage, run_checkpoints.c.idempotency_key).where(
                    run_checkpoints.c.seq == 1
                )
            ).all()
        )
    assert stored == {"fetch": None, "post": idempotency_key(run_id, "1", "post")}
