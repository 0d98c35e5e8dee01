"""Timing for the org and start-up benchmarks: every contender gets the same warm-up runs and
the same best-of-N, so a ratio never compares a cold run with a warm one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

WARMUP = int(os.environ.get("ORGPLANE_BENCH_WARMUP", "1"))
REPEATS = int(os.environ.get("ORGPLANE_BENCH_REPEATS", "5"))


def best_of(work: Callable[[], object], repeats: int = REPEATS, warmup: int = WARMUP) -> float:
    """The fastest of ``repeats`` timed runs of ``work``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def command(argv: Sequence[str], cwd: Path, ok: Sequence[int] = (0,)) -> Callable[[], object]:
    """A subprocess run of ``argv`` (without ORGPLANE_* from the caller's environment) that
    fails loudly on an unexpected exit code or a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}

    def run() -> object:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode not in ok or "Traceback" in done.stderr:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}")
        return done

    return run


def orgplane() -> str:
    """The ``orgplane`` script beside this interpreter."""
    return str(Path(sys.executable).with_name("orgplane"))
