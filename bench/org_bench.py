"""The org at scale: validate, chart and check on generated orgs of 100 / 1,000 / 3,000 seats
(about 2.7 outputs per seat), each next to a plain C-accelerated parse of the same file
(``yaml.compose`` with libyaml's CSafeLoader).

The commands run as ``orgplane`` subprocesses (what a user waits for: start-up, the load, the
work and the rendering). In-process, the org side alone: ``parse_org`` (the fast loader and
validation of the text), ``reload`` (``load_org`` of the unchanged file: a read and a hash) and
``chart_data``. ``check`` runs against a SQLite store beside the org that the warm-up run
created and synced, so the timed runs meet an unchanged org. Every contender: the same warm-up
run, then the best of ``ORGPLANE_BENCH_REPEATS`` (default 3 here).

Run: ``make bench`` or ``.venv/bin/python -m bench org_bench`` (``ORG_BENCH_SEATS=100,1000`` for
other sizes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from bench.org_generator import write_generated_org
from bench.timing import best_of, command, orgplane
from orgplane.org.chart import chart_data
from orgplane.org.loader import load_org, parse_org

SEATS = [int(s) for s in os.environ.get("ORG_BENCH_SEATS", "100,1000,3000").split(",")]
REPEATS = int(os.environ.get("ORGPLANE_BENCH_REPEATS", "3"))
TARGETS = {"validate": 1.0, "chart": 1.0, "check": 2.0}  # seconds, on a 1,000-seat org


def measure(seats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="org-bench-") as tmp:
        folder = Path(tmp)
        org_file = write_generated_org(folder, seats)
        text = org_file.read_text()
        exe, org = orgplane(), ["--org", str(org_file)]
        org_read = load_org(org_file)
        figures = {
            "kb": len(text.encode()) / 1024,
            "outputs": len(org_read.outputs),
            "C parse": best_of(lambda: yaml.compose(text, Loader=yaml.CSafeLoader), REPEATS),
            "parse_org": best_of(lambda: parse_org(text, org_file), REPEATS),
            "reload": best_of(lambda: load_org(org_file), REPEATS),
            "chart_data": best_of(lambda: chart_data(org_read), REPEATS),
        }
        for name in ("validate", "chart", "check"):
            run = command([exe, *org, name], folder, ok=(0, 1) if name == "check" else (0,))
            figures[name] = best_of(run, REPEATS)
    return figures


def main() -> None:
    print(
        "generated orgs; in-process parse_org, reload, chart_data; `orgplane` subprocesses; "
        f"1 warm-up + best of {REPEATS}; ratio = time / plain C parse of the same file"
    )
    header = f"{'seats':>6} {'outputs':>7} {'KB':>6}  " + "  ".join(
        f"{n:>17}"
        for n in ("C parse", "parse_org", "reload", "chart_data", "validate", "chart", "check")
    )
    print(header)
    for seats in SEATS:
        f = measure(seats)
        cells = [f"{f['C parse']:>8.3f}s {'1.0x':>7}"]
        for name in ("parse_org", "reload", "chart_data", "validate", "chart", "check"):
            cells.append(f"{f[name]:>8.3f}s {f[name] / f['C parse']:>6.2f}x")
        print(f"{seats:>6} {int(f['outputs']):>7} {f['kb']:>6.0f}  " + "  ".join(cells), flush=True)
        if seats == 1000:
            verdicts = [
                f"{name} {f[name]:.2f}s {'<=' if f[name] <= limit else '>'} {limit:.0f}s"
                for name, limit in TARGETS.items()
            ]
            print("  targets at 1,000 seats: " + "; ".join(verdicts), flush=True)
