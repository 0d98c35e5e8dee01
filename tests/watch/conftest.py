"""Fixtures of the watch suite: real state files written with chosen times, and the story's seats.

Times are injected: each test picks ``NOW`` and writes files whose embedded timestamp and mtime
are set relative to it, so nothing sleeps and nothing depends on the wall clock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orgplane.org.models import Output

NOW = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def write_state(path: Path, content: bytes | str, written_at: datetime) -> Path:
    """Write ``content`` to ``path`` with its mtime set to ``written_at``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    stamp = written_at.timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def dash_output() -> Output:
    """Dash's client analysis, as the agency declares it."""
    return Output.model_validate(
        {
            "id": "dash-analysis",
            "producer": "dash",
            "location": "state/dash.json",
            "format": "json",
            "timestamp": "generated_at",
            "max_age": "18h",
            "checks": {
                "required": ["generated_at", "clients"],
                "ranges": {"total_spend": {"min": 0}},
            },
        }
    )


@pytest.fixture
def dash_file(tmp_path: Path) -> Callable[..., Path]:
    """Write Dash's analysis generated at ``at`` (mtime ``written`` or ``at``)."""

    def write(at: datetime | str, written: datetime | None = None, **extra: Any) -> Path:
        stamp = iso(at) if isinstance(at, datetime) else at
        body = {"generated_at": stamp, "clients": ["Acme Dental"], "total_spend": 2800.5, **extra}
        mtime = written or (at if isinstance(at, datetime) else NOW)
        return write_state(tmp_path / "state" / "dash.json", json.dumps(body), mtime)

    return write


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
