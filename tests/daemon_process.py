"""The daemon (``orgplane watch``) and other orgplane commands as real processes, for tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def start_daemon(
    org: Path, db: str, *, interval: str = "1s", extra: Sequence[str] = ()
) -> subprocess.Popen[str]:
    """``orgplane watch`` on ``org`` and ``db``; its log on stderr (read it with :func:`stop`)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orgplane",
            "--org",
            str(org),
            "--db",
            db,
            "watch",
            "--interval",
            interval,
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str], timeout: float = 15) -> tuple[int, str]:
    """SIGTERM, then wait; the exit code and what it logged."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def wait_for(condition: Callable[[], bool], timeout: float, what: str = "condition") -> float:
    """Poll ``condition`` until true; the seconds it took (AssertionError after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")
