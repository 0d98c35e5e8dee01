"""Drill results in the live store: the only trace a drill leaves there.

One row per step (a scenario on one subject). ``audit readiness`` shows the latest of each
scenario and subject and flags what no drill ever covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from orgplane.learn.drills import Step
from orgplane.store.tables import drills


def record_steps(
    conn: Connection, drill_id: str, steps: Sequence[Step], ran_at: datetime, actor: str | None
) -> int:
    """Store one row per scored step, inside the caller's transaction; how many."""
    if not steps:
        return 0
    conn.execute(
        insert(drills),
        [
            {
                "drill_id": drill_id,
                "scenario": s.scenario,
                "subject_kind": s.subject_kind,
                "subject_id": s.subject_id,
                "ran_at": ran_at,
                "passed": s.passed,
                "actor": actor,
                "score": s.as_dict(),
            }
            for s in steps
        ],
    )
    return len(steps)


def latest_steps(conn: Connection) -> list[dict[str, Any]]:
    """The latest stored row of each (scenario, subject), by scenario then subject."""
    newest = (
        select(func.max(drills.c.id).label("id"))
        .group_by(drills.c.scenario, drills.c.subject_kind, drills.c.subject_id)
        .subquery()
    )
    query = (
        select(drills)
        .where(drills.c.id.in_(select(newest.c.id)))
        .order_by(drills.c.scenario, drills.c.subject_kind, drills.c.subject_id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
