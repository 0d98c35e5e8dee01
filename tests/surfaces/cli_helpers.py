"""Running the real ``orgplane`` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def orgplane(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m orgplane ARGS``; ORGPLANE_* from the test runner's environment are dropped."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    clean.update(env or {})
    clean["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "orgplane", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
