"""Start-up: ``orgplane --help``, ``orgplane checkpoint`` and ``orgplane run status`` as
subprocesses on the example org, each next to ``python -c pass`` and ``python -c 'import
sqlalchemy'`` (what any command that opens the store must pay at least).

The run is real: the example's ``pepper-triage`` process has no ``module:``, so ``orgplane run
start`` only stores it and each timed ``checkpoint`` records one stage of the next record, as a
shell agent would. Every contender: the same warm-up run, then the best of
``ORGPLANE_BENCH_REPEATS`` (default 5). Targets: ``--help`` under 0.3 s, ``checkpoint`` and
``run status`` under 0.5 s.

Run: ``make bench`` or ``.venv/bin/python -m bench startup_bench``.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from pathlib import Path

from bench.timing import REPEATS, WARMUP, best_of, command, orgplane
from orgplane.org.scaffold import write_example

PROCESS = "pepper-triage"
TARGETS = {"orgplane --help": 0.3, "orgplane checkpoint": 0.5, "orgplane run status": 0.5}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        folder = Path(tmp)
        org_file = write_example(folder)
        exe, org = orgplane(), ["--org", str(org_file)]
        batch = next((folder / "batches").iterdir())
        started = command([exe, *org, "run", "start", PROCESS, str(batch), "--json"], folder)()
        run_id = json.loads(started.stdout)["run_id"]  # type: ignore[attr-defined]
        records = itertools.count()

        def checkpoint() -> object:
            record = str(next(records) % 30 + 1)  # the example batch ids its records 1..30
            argv = [exe, *org, "checkpoint", run_id, record, "fetch", "--done"]
            return command(argv, folder)()

        contenders = {
            "python -c pass": command([sys.executable, "-c", "pass"], folder),
            "python -c 'import sqlalchemy'": command(
                [sys.executable, "-c", "import sqlalchemy"], folder
            ),
            "orgplane --help": command([exe, "--help"], folder),
            "orgplane checkpoint": checkpoint,
            "orgplane run status": command([exe, *org, "run", "status", run_id], folder),
        }
        times = {name: best_of(work) for name, work in contenders.items()}
    base, alchemy = times["python -c pass"], times["python -c 'import sqlalchemy'"]
    print(f"subprocesses on the example org, {WARMUP} warm-up + best of {REPEATS}")
    print(f"{'command':<30} {'seconds':>8} {'/ pass':>8} {'/ sqlalchemy':>13}  target")
    for name, seconds in times.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"{'<=' if seconds <= target else '>'} {target}s"
        print(
            f"{name:<30} {seconds:>8.3f} {seconds / base:>7.1f}x {seconds / alchemy:>12.2f}x  "
            f"{verdict}",
            flush=True,
        )
