"""The scorecard: metric values pushed by their owner seats, judged against target and schedule.

A value's time is the moment it was measured (``--at``, else the push); a schedule slot is kept
by a value measured in its window. Nothing pushed with a naive, unparseable or future time is
ever stored: the push is refused instead.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from orgplane.errors import UsageError
from orgplane.org.durations import format_duration, humanize_age
from orgplane.org.lookup import find_declared
from orgplane.org.models import Metric, Org
from orgplane.store.engine import Store
from orgplane.store.tables import metric_values
from orgplane.watch.inspect import Finding
from orgplane.watch.schedules import schedule_status, slots_as_dicts
from orgplane.watch.state import Snapshot, load_org_snapshot


def push_metric(
    store: Store, org: Org, metric_id: str, value: float, at: datetime, now: datetime
) -> None:
    """Store one clean value of ``metric_id`` measured at ``at`` (aware) and received at ``now``."""
    metric = find_declared(org.metrics, "metric", metric_id)
    if not math.isfinite(value):
        raise UsageError(f"value {value!r} for {metric_id} is not a finite number")
    with store.write() as conn:
        conn.execute(
            insert(metric_values).values(
                metric_id=metric.id, value=value, at=at, pushed_at=now, pushed_by=metric.owner
            )
        )


def target_met(metric: Metric, value: float | None) -> bool | None:
    """Whether ``value`` meets the metric's target in its direction; None without either."""
    if value is None or metric.target is None:
        return None
    return value >= metric.target if metric.direction == "at_least" else value <= metric.target


def metric_findings(org: Org, snap: Snapshot, now: datetime) -> list[Finding]:
    """One finding per declared metric: its schedule's state, or its age against max_age."""
    findings = []
    for metric in org.metrics.values():
        values = sorted(snap.values.get(metric.id, []))
        latest = values[-1] if values else None
        details: dict[str, Any] = {
            "value": latest[1] if latest else None,
            "unit": metric.unit,
            "target": metric.target,
            "direction": metric.direction,
            "met": target_met(metric, latest[1] if latest else None),
        }
        finding = Finding(
            "metric",
            metric.id,
            metric.owner,
            "fresh",
            "",
            now,
            now,
            data_at=latest[0] if latest else None,
            last_good_at=latest[0] if latest else None,
            source="scorecard",
            details=details,
        )
        if metric.schedule:
            pushes = [at for at, _ in values] + snap.pushes("heartbeat", metric.id, ("success",))
            failed = snap.last("heartbeat", metric.id, "fail")
            status = schedule_status(
                metric.schedule, metric.grace, org.timezone, pushes, now, failed
            )
            finding.status = "missed" if status.status == "down" else status.status
            finding.reason = status.reason
            finding.changed_at = status.changed_at
            finding.deadline = status.deadline
            details["summary"] = status.summary
            details["slots"] = slots_as_dicts(status.slots_today)
        elif latest is None:
            finding.status = "missing"
            finding.reason = (
                f"no value pushed yet; push one with 'orgplane metric push {metric.id} VALUE'"
            )
        elif metric.max_age and now >= latest[0] + metric.max_age:
            finding.status = "stale"
            finding.changed_at = latest[0] + metric.max_age
            finding.reason = (
                f"the last value is {humanize_age(now - latest[0])} old, over its max_age of "
                f"{format_duration(metric.max_age)}"
            )
        else:
            finding.reason = "pushed " + (
                f"{humanize_age(now - latest[0])} ago" if latest else "never"
            )
        findings.append(finding)
    return findings


def scorecard_rows(org: Org, findings: list[Finding]) -> list[dict[str, Any]]:
    """The scorecard: one row per metric with value, target, owner, last clean push, stale mark."""
    rows = []
    for finding in findings:
        if finding.subject_kind != "metric":
            continue
        metric = org.metrics[finding.subject_id]
        rows.append(
            {
                "metric": metric.id,
                "description": metric.description,
                "owner": metric.owner,
                "value": finding.details["value"],
                "unit": metric.unit,
                "target": metric.target,
                "direction": metric.direction,
                "met": finding.details["met"],
                "last_clean_push": finding.last_good_at,
                "status": finding.status,
                "stale": not finding.ok,
                "reason": finding.reason,
                "summary": finding.details.get("summary", ""),
                "slots": finding.details.get("slots", []),
            }
        )
    return rows


def scorecard(store: Store, org: Org, now: datetime) -> list[dict[str, Any]]:
    """The scorecard at ``now``, read from the store (nothing is written)."""
    with store.read() as conn:
        snap = load_org_snapshot(conn, org, now, with_content=False)
    return scorecard_rows(org, metric_findings(org, snap, now))
