"""The daemon (``orgplane watch``) as a real process, for tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

LOGS: dict[int, Path] = {}
"""The log file of each daemon started, by pid."""


def orgplane_argv(org: Path, db: str, *args: str) -> list[str]:
    """The command line of ``orgplane --org ORG --db DB ARGS...`` with this Python."""
    return [sys.executable, "-m", "orgplane", "--org", str(org), "--db", db, *args]


def start_daemon(
    org: Path, db: str, *, interval: str = "1s", extra: Sequence[str] = ()
) -> subprocess.Popen[str]:
    """``orgplane watch`` on ``org`` and ``db``. Its log goes to a file (read it with
    :func:`stop`), never a pipe: a pipe nobody reads fills up and blocks the daemon's logging."""
    with tempfile.NamedTemporaryFile(prefix="orgplane-daemon-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            orgplane_argv(org, db, "watch", "--interval", interval, *extra),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
    LOGS[process.pid] = Path(log.name)
    return process


def stop(process: subprocess.Popen[str], timeout: float = 15) -> tuple[int, str]:
    """SIGTERM, then wait; the exit code and what it logged."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    path = LOGS.pop(process.pid, None)
    if path is None:
        return process.returncode, ""
    text = path.read_text(errors="replace")
    path.unlink(missing_ok=True)
    return process.returncode, text


def wait_for(condition: Callable[[], bool], timeout: float, what: str = "condition") -> float:
    """Poll ``condition`` until true; the seconds it took (AssertionError after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")
