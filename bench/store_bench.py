"""What it costs a command to make sure the org is in the store, when the org has not changed.

Three contenders, each as a ratio of a plain reference (one read transaction, ``SELECT 1``)
measured in the same run, with the same warm-up and best of 5 for every one: the full
``sync_org`` every command used to run (item by item, in a write transaction), and
``ensure_synced`` (one read of the stored digest). Orgs of the agency example's size and of
1,000 seats with 2,000 outputs, on a fresh SQLite file (``STORE_BENCH_DB`` for another store, e.g.
an empty PostgreSQL schema).

Run: ``make bench`` or ``.venv/bin/python -m bench store_bench``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from bench.timing import best_of as timed_best_of
from orgplane.org.models import Org, Output, Seat
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import ensure_synced, sync_org

RUNS = 5


def make_org(folder: Path, seats: int) -> Org:
    """``seats`` agent seats under one human, two outputs each."""
    people = {"ceo": Seat(id="ceo", title="Founder", kind="human")}
    agents = {
        f"s{i:04d}": Seat(
            id=f"s{i:04d}", title=f"Agent {i}", kind="agent", owner="ceo", reports_to="ceo"
        )
        for i in range(seats)
    }
    outputs = {
        f"o{i:04d}{k}": Output(id=f"o{i:04d}{k}", producer=f"s{i:04d}", location=f"s/{i}{k}.json")
        for i in range(seats)
        for k in "ab"
    }
    return Org(name="bench", seats=people | agents, outputs=outputs, source=folder / "org.yaml")


def best_of(work: Callable[[], object]) -> float:
    """One warm-up run, then the best of RUNS: the same for every contender."""
    return timed_best_of(work, RUNS, warmup=1)


def one_read(store: Store) -> None:
    with store.read() as conn:
        conn.execute(text("SELECT 1")).all()


def measure(store: Store, org: Org) -> dict[str, float]:
    sync_org(store, org)
    assert ensure_synced(store, org) is None
    reference = best_of(lambda: one_read(store))
    return {
        "reference": reference,
        "sync_org": best_of(lambda: sync_org(store, org)) / reference,
        "ensure_synced": best_of(lambda: ensure_synced(store, org)) / reference,
    }


def main() -> None:
    print("unchanged org: cost as a multiple of one read transaction (SELECT 1), best of 5")
    print(f"{'org':>22} {'1 read (ms)':>12} {'sync_org':>10} {'ensure_synced':>14}")
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        for seats in (8, 1000):
            url = os.environ.get("STORE_BENCH_DB") or f"sqlite:///{tmp}/store-{seats}.db"
            store = open_store(url)
            try:
                org = make_org(Path(tmp), seats)
                figures = measure(store, org)
            finally:
                store.dispose()
            label = f"{len(org.seats)} seats, {len(org.outputs)} outputs"
            print(
                f"{label:>22} {figures['reference'] * 1000:>12.2f} "
                f"{figures['sync_org']:>9.1f}x {figures['ensure_synced']:>13.1f}x"
            )
            if os.environ.get("STORE_BENCH_DB"):
                break  # one shared store: the second org would be a resync, not a fair case


if __name__ == "__main__":
    main()
