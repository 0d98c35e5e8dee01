"""Heartbeats: a scheduled job says it started, succeeded or failed (``orgplane heartbeat``).

A heartbeat named after a scheduled output or metric counts as a push for its schedule (and a
failure puts the schedule down at once). Any other heartbeat (a process) is watched on its own:
``up`` after a success, ``running`` after a start (for its grace), ``missing`` when the start
was never followed by a finish within that grace, ``failed`` after a failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import insert

from orgplane.errors import NotFoundError
from orgplane.org.durations import format_duration
from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import pings
from orgplane.watch.inspect import Finding
from orgplane.watch.state import Snapshot

PingKind = Literal["start", "success", "fail"]

RUNNING_GRACE = timedelta(hours=1)
"""How long a process's job may run after ``--start`` before it is missing (healthchecks'
default grace); a heartbeat named after an output or metric uses its ``grace``."""


def heartbeat_seat(org: Org, name: str) -> str:
    """The seat behind heartbeat ``name`` (a declared output, metric or process)."""
    if name in org.outputs:
        return org.outputs[name].producer
    if name in org.metrics:
        return org.metrics[name].owner
    if name in org.processes:
        return org.processes[name].seat
    known = sorted({*org.outputs, *org.metrics, *org.processes})
    raise NotFoundError(
        f"heartbeat {name!r} names no output, metric or process in the org file; "
        f"use one of: {', '.join(known)}"
    )


def record_heartbeat(
    store: Store, org: Org, name: str, kind: PingKind, at: datetime, note: str | None = None
) -> None:
    """Store one heartbeat of ``name``; raises NotFoundError for an undeclared name."""
    heartbeat_seat(org, name)
    with store.write() as conn:
        conn.execute(
            insert(pings).values(
                subject_kind="heartbeat",
                subject_id=name,
                kind=kind,
                at=at,
                source="heartbeat",
                note=note,
            )
        )


def heartbeat_findings(org: Org, snap: Snapshot, now: datetime) -> list[Finding]:
    """A finding for each heartbeat that is not part of a schedule: every one ever seen (the
    store's state carries it past the pings loaded), so a silent job never drops out unseen."""
    scheduled = {o.id for o in org.outputs.values() if o.schedule}
    scheduled |= {m.id for m in org.metrics.values() if m.schedule}
    names = {name for kind, name in snap.summary if kind == "heartbeat"}
    names |= {name for kind, name in snap.priors if kind == "heartbeat"}
    findings = []
    for name in sorted(names - scheduled):
        try:
            seat = heartbeat_seat(org, name)
        except NotFoundError:
            continue  # declared once, since removed from the org file
        finding = _heartbeat_finding(org, name, seat, snap, now)
        if finding is not None:
            findings.append(finding)
    return findings


def running_grace(org: Org, name: str) -> timedelta:
    """How long a started job may run before it counts as missing: the output's or metric's
    ``grace``, else :data:`RUNNING_GRACE` for a process."""
    declared = org.outputs.get(name) or org.metrics.get(name)
    return declared.grace if declared is not None else RUNNING_GRACE


def _heartbeat_finding(
    org: Org, name: str, seat: str, snap: Snapshot, now: datetime
) -> Finding | None:
    summary = snap.summary.get(("heartbeat", name), {})
    prior = snap.priors.get(("heartbeat", name))
    if summary:
        # The latest ping decides; on a tie a failure beats a success beats a start.
        last_kind, seen = max(
            summary.items(), key=lambda item: (item[1].last_at, _PRECEDENCE.get(item[0], 0))
        )
        last_at = seen.last_at
        last_good = snap.last("heartbeat", name, "success") or (
            prior.last_good_at if prior else None
        )
    elif prior is not None and prior.data_at is not None:
        # Older than the pings a pass loads: the stored state says what the last ping was.
        last_kind, last_at = _LAST_KIND.get(prior.status, "success"), prior.data_at
        last_good = prior.last_good_at
    else:
        return None
    stamp = last_at.isoformat(timespec="seconds")
    grace = running_grace(org, name)
    changed_at, deadline = last_at, None
    if last_kind == "fail":
        status, reason = "failed", f"the job reported failure at {stamp}"
    elif last_kind == "start" and now < last_at + grace:
        status, reason = "running", f"started at {stamp}, no finish reported yet"
        deadline = last_at + grace
    elif last_kind == "start":
        status, changed_at = "missing", last_at + grace
        reason = (
            f"started at {stamp} and reported no finish within its grace of "
            f"{format_duration(grace)}: the job hung or died"
        )
    else:
        status, reason = "up", f"the last run succeeded at {stamp}"
    return Finding(
        "heartbeat",
        name,
        seat,
        status,
        reason,
        now,
        prior.since if prior and prior.status == status else changed_at,
        data_at=last_at,
        last_good_at=last_good,
        deadline=deadline,
        source="heartbeat",
        details={"runs": sum(seen.count for seen in summary.values())},
    )


_PRECEDENCE = {"start": 0, "success": 1, "fail": 2}
_LAST_KIND: dict[str, PingKind] = {"failed": "fail", "running": "start", "missing": "start"}
