"""What keeping last good copies costs the watcher: one check pass over the same state files,
with and without a seat that reads every output with ``use_last_good``.

With such a seat, a pass also hashes each fresh file it read and, when the content changed,
stores a copy (bounded by ``max_bytes``) for the gate to hand out later. Both contenders run on
the same files, each in its own fresh SQLite store, with the same warm-up and best-of-N.

Run: ``make bench`` or ``.venv/bin/python -m bench gate_bench`` (``GATE_BENCH_FILES`` to change
the count).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.timing import REPEATS, WARMUP, best_of
from bench.watch_bench import NOW, make_files, make_org
from orgplane.org.models import InputProtocol, Org, Seat
from orgplane.store.engine import open_store
from orgplane.watch.check import check_once


def with_consumer(org: Org) -> Org:
    """``org`` plus a seat reading every output with ``use_last_good``."""
    radar = Seat(
        id="radar",
        title="Chief of staff",
        kind="agent",
        inputs={ident: InputProtocol(protocol="use_last_good") for ident in org.outputs},
    )
    return org.model_copy(update={"seats": {**org.seats, "radar": radar}})


def main() -> None:
    count = int(os.environ.get("GATE_BENCH_FILES", "10000"))
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        folder = Path(tmp)
        make_files(folder, count)
        plain = make_org(folder, count)
        kept = with_consumer(plain)
        results: dict[str, tuple[float, float]] = {}
        for label, org in (("plain", plain), ("kept", kept)):
            store = open_store(f"sqlite:///{folder / f'{label}.db'}")
            try:
                start = time.perf_counter()
                check_once(store, org, NOW)  # the first pass: states (and copies) written
                first = time.perf_counter() - start
                steady = best_of(lambda: check_once(store, org, NOW), REPEATS, WARMUP)  # noqa: B023
                results[label] = (first, steady)
            finally:
                store.dispose()
    (plain_first, plain_steady), (kept_first, kept_steady) = results["plain"], results["kept"]
    print(
        f"{count} JSON state files of ~3 KB (80% fresh), SQLite; steady = warm-up {WARMUP}, "
        f"best of {REPEATS}"
    )
    print(f"  check pass, steady, no use_last_good reader  {plain_steady:7.3f}s  1.00x")
    print(
        f"  check pass, steady, all read use_last_good   {kept_steady:7.3f}s  "
        f"{kept_steady / plain_steady:.2f}x  (target: at most 1.15x)"
    )
    print(f"  check pass, first, no use_last_good reader   {plain_first:7.3f}s  1.00x")
    print(
        f"  check pass, first, copies of fresh files     {kept_first:7.3f}s  "
        f"{kept_first / plain_first:.2f}x"
    )


if __name__ == "__main__":
    main()
