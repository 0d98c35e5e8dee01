"""Real worker processes killed with SIGKILL at random points, on SQLite and PostgreSQL.

The stages append every execution to a ledger file outside the store (O_APPEND); after the
kills, every record must have finished every stage, each effect exactly once by the ledger,
records left in doubt reconciled (draft) or held for a person (send), and the store must pass
the integrity check after every kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orgplane.org.loader import load_org
from orgplane.respond.events import recent_events
from orgplane.runs import check, record_checkpoint, run_status
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import sync_org
from orgplane.store.tables import run_checkpoints, run_records

from .conftest import ledger_counts, records, write_org

WORKER = Path(__file__).parent / "crash_worker.py"
RUN = "pipe:crash"
LEASE = "0.8"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def setup(tmp_path: Path, db_url: str) -> Iterator[tuple[Path, str, Store]]:
    org_file = write_org(tmp_path / "org")
    store = open_store(db_url)
    sync_org(store, load_org(org_file))
    yield org_file, db_url, store
    store.dispose()


def spawn(org_file: Path, db_url: str, batch: Path, worker: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PIPELINE_EFFECT_DELAY": "0.002", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(org_file), db_url, str(batch), worker, LEASE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ledger_lines(org_dir: Path) -> int:
    path = org_dir / "ledger.log"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> None:
    _out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]


def settle_by_hand(store: Store, org_file: Path) -> int:
    """What a person does with records held in doubt at ``send``: look at the outside world
    (the ledger) and record what they saw. Returns how many records were held."""
    org = load_org(org_file)
    status = run_status(store, RUN)
    counts = ledger_counts(org_file.parent)
    for waiting in status.waiting:
        assert (waiting.stage, waiting.state) == ("send", "in_doubt")
        happened = counts[("send", waiting.record)] == 1
        record_checkpoint(store, org, RUN, waiting.record, "send", "done" if happened else "redo")
    return len(status.waiting)


def assert_exactly_once(store: Store, org_dir: Path, n: int) -> None:
    status = run_status(store, RUN)
    assert status.state == "finished", status.as_dict()
    assert all(s.done == n for s in status.stages), status.as_dict()["stages"]
    counts = ledger_counts(org_dir)
    for stage_name in ("draft", "send"):
        twice = [k for k in range(1, n + 1) if counts[(stage_name, str(k))] != 1]
        assert twice == [], f"{stage_name} ran other than once for records {twice[:10]}"
    assert all(counts[("validate", str(k))] >= 1 for k in range(1, n + 1))
    assert check(store, RUN) == []


@pytest.mark.crash
@pytest.mark.slow
def test_sigkill_at_random_points_twenty_times(
    setup: tuple[Path, str, Store], tmp_path: Path
) -> None:
    org_file, db_url, store = setup
    n = 1000
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(records(n)))
    rng = random.Random(int(os.environ.get("CRASH_SEED", "4")))
    kills = 0
    for round_ in range(20):
        before = ledger_lines(org_file.parent)
        proc = spawn(org_file, db_url, batch, f"w{round_}")
        deadline = time.monotonic() + 60
        while ledger_lines(org_file.parent) == before and proc.poll() is None:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.25))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=30)
        assert check(store, RUN) == []  # sound after every kill
    assert kills >= 15, "the run finished before it could be killed often enough"

    finish(spawn(org_file, db_url, batch, "final"))
    held = settle_by_hand(store, org_file)
    if held:
        finish(spawn(org_file, db_url, batch, "after-person"))
    assert_exactly_once(store, org_file.parent, n)

    validate_runs = sum(
        c for (s, _), c in ledger_counts(org_file.parent).items() if s == "validate"
    )
    assert validate_runs - n <= kills * 25  # pure work redone only for uncommitted chunks
    with store.read() as conn:
        reconciled = conn.execute(
            select(func.count()).where(run_checkpoints.c.reconciled.is_not(None))
        ).scalar_one()
        crashes = [e for e in recent_events(conn, limit=1000) if e["kind"] == "crash"]
    print(f"kills={kills} reconciled={reconciled} held={held} validate redone={validate_runs - n}")
    assert reconciled + held >= 1, "no kill landed mid-effect; the test did not test in-doubt"
    assert crashes, "no takeover of a dead worker's lease was recorded"


@pytest.mark.crash
@pytest.mark.slow
def test_four_workers_one_killed_midway(setup: tuple[Path, str, Store], tmp_path: Path) -> None:
    org_file, db_url, store = setup
    n = 2000
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(records(n)))
    workers = [spawn(org_file, db_url, batch, f"worker-{i}") for i in range(4)]
    deadline = time.monotonic() + 120
    while ledger_lines(org_file.parent) < n:  # about a third of the work done
        assert time.monotonic() < deadline and workers[0].poll() is None
        time.sleep(0.01)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].communicate(timeout=30)
    with store.read() as conn:
        orphaned = conn.execute(
            select(func.count()).where(run_records.c.lease_owner == "worker-0")
        ).scalar_one()
    for proc in workers[1:]:
        finish(proc)
    held = settle_by_hand(store, org_file)
    if held:
        finish(spawn(org_file, db_url, batch, "after-person"))
    assert_exactly_once(store, org_file.parent, n)
    with store.read() as conn:
        by_worker = dict(
            conn.execute(
                select(run_checkpoints.c.worker, func.count()).group_by(run_checkpoints.c.worker)
            ).all()
        )
        crashes = [e for e in recent_events(conn, limit=1000) if e["kind"] == "crash"]
    assert {f"worker-{i}" for i in range(1, 4)} <= set(by_worker), by_worker
    if orphaned:
        assert [e["details"]["worker"] for e in crashes] == ["worker-0"]
