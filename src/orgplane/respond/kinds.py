"""The kinds of failure event, as a plain Literal: org.yaml names them (an urgency tier's
``kinds:`` and ``when:`` rules), so the org models read them from here without SQLAlchemy."""

from __future__ import annotations

from typing import Literal

EventKind = Literal[
    "crash",
    "unhandled_error",
    "handled_error",
    "in_doubt",
    "stale",
    "corrupt",
    "missing",
    "invalid",
    "frozen",
    "missed_run",
    "empty_input",
    "recovered",
    "paused",
    "overdue_handoff",
]
SubjectKind = Literal["output", "metric", "process", "run", "seat", "heartbeat"]
