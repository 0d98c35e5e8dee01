"""Use case: the figures ``/metrics`` exposes, counted from the store in a few grouped queries.

Everything is computed from stored rows at the time of the request, so any number of API
processes on one store report the same figures, and a restart loses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgplane.service.models import Result
from orgplane.service.session import Session

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection

LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000)
"""Upper bounds of the decision latency histogram, in milliseconds."""


class LatencyHistogram(Result):
    """Decision latencies (event occurred -> decided): cumulative counts per upper bound."""

    buckets: list[tuple[int, int]]
    """(upper bound in ms, decisions at or under it), ascending."""
    count: int
    sum_ms: int


class StoreFigures(Result):
    """Counts of what the store holds: the source of every ``/metrics`` sample."""

    outputs_by_status: dict[str, int]
    """Declared outputs by their last checked status (``unchecked`` before any check)."""
    runs_by_state: dict[str, int]
    checkpoints_by_status: dict[str, int]
    events_by_kind: dict[str, int]
    decisions_by_action: dict[str, int]
    open_decisions: int
    decision_latency: LatencyHistogram
    notifications_by_status: dict[str, int]
    failed_notifications: int


def store_figures(session: Session) -> StoreFigures:
    """Count outputs by status, runs by state, checkpoints, events by kind, decisions by action
    (with a latency histogram) and notifications by status; reads only."""
    from sqlalchemy import case, func, select

    from orgplane.store.tables import decisions, events, notifications, watch_states
    from orgplane.store.tables.runs import run_checkpoints, runs

    org = session.org()

    def grouped(conn: Connection, column: ColumnElement[Any]) -> dict[str, int]:
        query = select(column, func.count()).group_by(column)
        return {str(k): int(n) for k, n in conn.execute(query)}

    bounds = [
        func.coalesce(func.sum(case((decisions.c.latency_ms <= b, 1), else_=0)), 0)
        for b in LATENCY_BUCKETS_MS
    ]
    with session.store().read() as conn:
        stored = {
            str(ident): str(status)
            for ident, status in conn.execute(
                select(watch_states.c.subject_id, watch_states.c.status).where(
                    watch_states.c.subject_kind == "output"
                )
            )
        }
        latency = conn.execute(
            select(func.count(), func.coalesce(func.sum(decisions.c.latency_ms), 0), *bounds)
        ).one()
        runs_by_state = grouped(conn, runs.c.status)
        checkpoints = grouped(conn, run_checkpoints.c.status)
        kinds = grouped(conn, events.c.kind)
        actions = grouped(conn, decisions.c.action)
        decision_states = grouped(conn, decisions.c.status)
        sends = grouped(conn, notifications.c.status)
    outputs: dict[str, int] = {}
    for ident in org.outputs:
        status = stored.get(ident, "unchecked")
        outputs[status] = outputs.get(status, 0) + 1
    return StoreFigures(
        outputs_by_status=outputs,
        decision_latency=LatencyHistogram(
            buckets=[(b, int(n)) for b, n in zip(LATENCY_BUCKETS_MS, latency[2:], strict=True)],
            count=int(latency[0]),
            sum_ms=int(latency[1]),
        ),
        runs_by_state=runs_by_state,
        checkpoints_by_status=checkpoints,
        events_by_kind=kinds,
        decisions_by_action=actions,
        open_decisions=sum(n for state, n in decision_states.items() if state != "closed"),
        notifications_by_status=sends,
        failed_notifications=sends.get("failed", 0),
    )
