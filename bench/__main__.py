"""``make bench``: run every ``bench/*_bench.py`` module's ``main()`` in turn.

Each benchmark measures orgplane next to a peer or a plain reference in the same run and prints
ratios, because these machines are shared and absolute timings are noise.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> None:
    only = sys.argv[1:]
    for module_file in sorted(Path(__file__).parent.glob("*_bench.py")):
        name = module_file.stem
        if only and name not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
