"""Bounded history: what seats pushed is kept for the org's ``retention`` (default 90 days),
publishes for the last few per output.

Never pruned, whatever its age: the current state of every subject (``watch_states``), the
latest ping of each subject and the latest value of each metric (the scorecard shows it), the
last good publish of each output (``use_last_good`` hands it out), and failure events (they
belong to incidents, not to the watcher). The watcher prunes a bounded batch per table each pass
(:func:`prune_pass`), walking the time indexes from the oldest row, so a pass never scans the
history; :func:`prune` repeats that until nothing is left to delete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Select, Table, and_, delete, exists, func, or_, select

from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import (
    gate_answers,
    metric_values,
    pings,
    publishes,
    watch_transitions,
)

KEEP_PUBLISHES = 5
"""How many of each output's latest publishes are kept (plus the last good one)."""

PASS_BATCH = 500
"""The most rows a watcher pass deletes from each table: the pass stays cheap, and a backlog
of history goes down by this much each interval."""

GOOD_STATUSES = ("fresh", "stale")
"""A publish classified so was valid content (stale content is only old): it can be last good."""


class PruneReport(BaseModel):
    """What one prune deleted, per table, and the moment before which history went."""

    cutoff: datetime
    pings: int = 0
    metric_values: int = 0
    watch_transitions: int = 0
    publishes: int = 0
    gate_answers: int = 0

    @property
    def total(self) -> int:
        """Rows deleted in all tables."""
        return (
            self.pings
            + self.metric_values
            + self.watch_transitions
            + self.publishes
            + self.gate_answers
        )

    def add(self, other: PruneReport) -> None:
        """Count ``other``'s deletions in this report."""
        self.pings += other.pings
        self.metric_values += other.metric_values
        self.watch_transitions += other.watch_transitions
        self.publishes += other.publishes
        self.gate_answers += other.gate_answers


def prune(store: Store, org: Org, now: datetime, batch: int = 5000) -> PruneReport:
    """Delete every row older than the org's retention at ``now`` and every publish beyond the
    last :data:`KEEP_PUBLISHES` of its output (the last good one stays); one transaction per
    batch, so a large backlog never holds a lock for long. Raises StoreError like any write."""
    report = PruneReport(cutoff=now - org.retention)
    while True:
        step = prune_pass(store, org, now, batch)
        report.add(step)
        if step.total == 0:
            break
    with store.read() as conn:
        crowded = conn.execute(
            select(publishes.c.output_id)
            .group_by(publishes.c.output_id)
            .having(func.count() > KEEP_PUBLISHES)
        ).scalars()
        outputs = sorted(crowded)
    for output_id in outputs:
        with store.write() as conn:
            report.publishes += trim_publishes(conn, output_id)
    return report


def prune_pass(store: Store, org: Org, now: datetime, batch: int = PASS_BATCH) -> PruneReport:
    """One bounded prune (the watcher's, each pass): at most ``batch`` rows from each table
    of history (gate answers included) older than the org's retention at ``now``, the oldest first."""
    cutoff = now - org.retention
    with store.write() as conn:
        return PruneReport(
            cutoff=cutoff,
            pings=_delete(conn, pings, prune_pings_query(cutoff, batch)),
            metric_values=_delete(conn, metric_values, prune_values_query(cutoff, batch)),
            watch_transitions=_delete(
                conn, watch_transitions, prune_transitions_query(cutoff, batch)
            ),
            gate_answers=_delete(conn, gate_answers, prune_answers_query(cutoff, batch)),
        )


def prune_pings_query(cutoff: datetime, batch: int) -> Select[Any]:
    """Ids of up to ``batch`` pings older than ``cutoff``, oldest first, none of them the
    latest of its subject."""
    return _oldest(pings, cutoff, batch, "subject_kind", "subject_id")


def prune_values_query(cutoff: datetime, batch: int) -> Select[Any]:
    """Ids of up to ``batch`` metric values older than ``cutoff``, none the latest of its
    metric."""
    return _oldest(metric_values, cutoff, batch, "metric_id")


def prune_transitions_query(cutoff: datetime, batch: int) -> Select[Any]:
    """Ids of up to ``batch`` transitions older than ``cutoff`` (the current state is in
    ``watch_states``; events are kept)."""
    table = watch_transitions
    return select(table.c.id).where(table.c.at < cutoff).order_by(table.c.at).limit(batch)


def prune_answers_query(cutoff: datetime, batch: int) -> Select[Any]:
    """Ids of up to ``batch`` gate answers older than ``cutoff``: the record is history, what
    the gate gives next depends on the inputs now, not on an earlier answer."""
    table = gate_answers
    return (
        select(table.c.id)
        .where(table.c.answered_at < cutoff)
        .order_by(table.c.answered_at)
        .limit(batch)
    )


def trim_publishes(conn: Connection, output_id: str, keep: int = KEEP_PUBLISHES) -> int:
    """Delete the publishes of ``output_id`` beyond its latest ``keep``, except the last good
    one (or, for rows older than their status, the latest of unknown status); returns the count."""
    table = publishes.c
    newest = (
        select(table.id)
        .where(table.output_id == output_id)
        .order_by(table.id.desc())
        .offset(keep - 1)
        .limit(1)
    )
    boundary = conn.execute(newest).scalar()
    if boundary is None:
        return 0
    good = conn.execute(
        select(func.max(table.id)).where(
            table.output_id == output_id,
            or_(table.status.in_(GOOD_STATUSES), table.status.is_(None)),
        )
    ).scalar()
    fresh = conn.execute(  # the last fresh one: what ``use_last_good`` hands out
        select(func.max(table.id)).where(table.output_id == output_id, table.status == "fresh")
    ).scalar()
    condition = and_(table.output_id == output_id, table.id < boundary)
    for kept in (good, fresh):
        if kept is not None:
            condition = and_(condition, table.id != kept)
    return int(conn.execute(delete(publishes).where(condition)).rowcount or 0)


def _oldest(table: Table, cutoff: datetime, batch: int, *subject: str) -> Select[Any]:
    # Walk the ``at`` index from the oldest row; a row is prunable when a later row of its own
    # subject exists (a seek on the subject index), so the latest of each subject always stays.
    newer = table.alias("newer")
    same = [newer.c[name] == table.c[name] for name in subject]
    later = or_(newer.c.at > table.c.at, and_(newer.c.at == table.c.at, newer.c.id > table.c.id))
    return (
        select(table.c.id)
        .where(table.c.at < cutoff, exists().where(*same, later))
        .order_by(table.c.at)
        .limit(batch)
    )


def _delete(conn: Connection, table: Table, ids: Select[Any]) -> int:
    rows = list(conn.execute(ids).scalars())
    if not rows:
        return 0
    return int(conn.execute(delete(table).where(table.c.id.in_(rows))).rowcount or 0)
