"""Running a step that might hang with a limit, so a regression fails instead of hanging."""

from __future__ import annotations

import threading
from typing import Any


def within(limit: float, work: Any) -> BaseException | None:
    """Run ``work`` in a daemon thread; fail if it has not ended after ``limit`` seconds."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still waiting after {limit}s: a wait is unbounded"
    return outcome[0]
