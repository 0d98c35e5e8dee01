"""One check pass over 10,000 state files next to a plain-Python reference loop.

The reference does the least any checker must: ``os.stat`` + ``json.load`` + parse the
timestamp, per file. orgplane additionally bounds the read, hashes the content (for frozen
detection), runs the declared checks, classifies and words a finding; the full pass also reads
and writes the store (batched: a handful of statements per pass, not one per file).

Run: ``make bench`` or ``.venv/bin/python -m bench watch_bench`` (``WATCH_BENCH_FILES`` to change
the count; ``WATCH_BENCH_DB`` for another store than a fresh SQLite file, e.g. an empty
PostgreSQL schema). Timings are the best of three warm runs on the same files.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orgplane.org.models import Org, Output, Seat
from orgplane.store.engine import open_store
from orgplane.watch.check import check_once, evaluate
from orgplane.watch.state import Snapshot

NOW = datetime.now(UTC)


def make_files(folder: Path, count: int) -> list[Path]:
    """``count`` JSON files of about 3 KB: 80% fresh, 12% stale, 8% corrupt (bad time or JSON)."""
    state = folder / "state"
    state.mkdir(parents=True, exist_ok=True)
    paths = []
    clients = [{"name": f"client {i}", "spend": 100.0 + i, "leads": i % 17} for i in range(40)]
    for i in range(count):
        kind = i % 25
        at = NOW - timedelta(hours=30 if kind in (1, 2, 3) else 1, seconds=i)
        stamp = at.isoformat()
        body: dict[str, Any] = {"generated_at": stamp, "clients": clients, "total_spend": 5000 + i}
        text = json.dumps(body)
        if kind == 4:
            text = text.replace(stamp, "2026-13-45")
        elif kind == 5:
            text = text[: len(text) // 2]
        path = state / f"{i:05d}.json"
        path.write_text(text)
        os.utime(path, (at.timestamp(), at.timestamp()))
        paths.append(path)
    return paths


def make_org(folder: Path, count: int) -> Org:
    outputs = {
        f"o{i:05d}": Output(
            id=f"o{i:05d}",
            producer="dash",
            location=f"state/{i:05d}.json",
            timestamp="generated_at",
        )
        for i in range(count)
    }
    seats = {"dash": Seat(id="dash", title="Analytics", kind="agent")}
    return Org(name="bench", seats=seats, outputs=outputs, source=folder / "org.yaml")


def reference(paths: list[Path]) -> int:
    """The plain loop: stat, json.load, parse the timestamp; count the fresh ones."""
    fresh = 0
    limit = NOW - timedelta(hours=18)
    for path in paths:
        os.stat(path)
        try:
            with open(path) as handle:
                data = json.load(handle)
            if datetime.fromisoformat(data["generated_at"]) >= limit:
                fresh += 1
        except (ValueError, KeyError):
            pass
    return fresh


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(count: int, db: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="watch-bench-") as tmp:
        folder = Path(tmp)
        paths = make_files(folder, count)
        org = make_org(folder, count)
        empty = Snapshot()
        fresh = reference(paths)
        findings = evaluate(org, empty, NOW)
        assert sum(f.status == "fresh" for f in findings) == fresh, "the loops disagree"
        store = open_store(
            os.environ.get("WATCH_BENCH_DB") or f"sqlite:///{folder / 'orgplane.db'}"
        )
        try:
            start = time.perf_counter()
            check_once(store, org, NOW)
            first = time.perf_counter() - start
            result = {
                "files": count,
                "reference_s": best_of(3, lambda: reference(paths)),
                "inspect_s": best_of(3, lambda: evaluate(org, empty, NOW)),
                "first_pass_s": first,
                "steady_pass_s": best_of(3, lambda: check_once(store, org, NOW)),
                "reference_peak": peak_memory(lambda: reference(paths)),
                "inspect_peak": peak_memory(lambda: evaluate(org, empty, NOW)),
            }
        finally:
            store.dispose()
    return result


def main() -> None:
    count = int(os.environ.get("WATCH_BENCH_FILES", "10000"))
    small = measure(max(count // 10, 1))
    big = measure(count, os.environ.get("WATCH_BENCH_DB"))
    ref = big["reference_s"]
    print(f"{count} JSON state files of ~3 KB (80% fresh, 12% stale, 8% corrupt), best of 3")
    rows = [
        ("reference loop (stat + json.load + parse)", ref),
        ("orgplane inspection (read, hash, classify)", big["inspect_s"]),
        ("orgplane check pass, steady (with store)", big["steady_pass_s"]),
        ("orgplane check pass, first (writes states)", big["first_pass_s"]),
    ]
    for label, seconds in rows:
        print(
            f"  {label:45s} {seconds:7.3f}s  {count / seconds:9,.0f} files/s  "
            f"{seconds / ref:5.2f}x reference"
        )
    print("  memory (tracemalloc peak), inspection vs reference:")
    for run in (small, big):
        print(
            f"    {int(run['files']):6d} files: orgplane {run['inspect_peak'] / 2**20:6.1f} MB "
            f"({run['inspect_peak'] / run['files']:5.0f} B/file), "
            f"reference {run['reference_peak'] / 2**20:6.2f} MB"
        )
    verdict = big["steady_pass_s"] / ref
    print(
        f"  target: within 1.5x of the reference and under 1s per 10,000 files -> "
        f"steady pass {verdict:.2f}x, {big['steady_pass_s'] * 10_000 / count:.2f}s per 10,000"
    )


if __name__ == "__main__":
    main()
