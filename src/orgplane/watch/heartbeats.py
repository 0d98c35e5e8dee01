"""Heartbeats: a scheduled job says it started, succeeded or failed (``orgplane heartbeat``).

A heartbeat named after a scheduled output or metric counts as a push for its schedule (and a
failure puts the schedule down at once). Any other heartbeat (a process) is watched on its own:
``up`` after a success, ``running`` after a start, ``failed`` after a failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import insert

from orgplane.errors import NotFoundError
from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import pings
from orgplane.watch.inspect import Finding
from orgplane.watch.state import Snapshot

PingKind = Literal["start", "success", "fail"]


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
    """A finding for each recently seen heartbeat that is not part of a schedule."""
    scheduled = {o.id for o in org.outputs.values() if o.schedule}
    scheduled |= {m.id for m in org.metrics.values() if m.schedule}
    findings = []
    for (kind, name), history in sorted(snap.pings.items()):
        if kind != "heartbeat" or name in scheduled or not history:
            continue
        try:
            seat = heartbeat_seat(org, name)
        except NotFoundError:
            continue  # declared once, since removed from the org file
        last_kind, last_at = history[-1]
        successes = [at for k, at in history if k == "success"]
        last_good = successes[-1] if successes else None
        stamp = last_at.isoformat(timespec="seconds")
        if last_kind == "fail":
            status, reason = "failed", f"the job reported failure at {stamp}"
        elif last_kind == "start":
            status, reason = "running", f"started at {stamp}, no finish reported yet"
        else:
            status, reason = "up", f"the last run succeeded at {stamp}"
        findings.append(
            Finding(
                "heartbeat",
                name,
                seat,
                status,
                reason,
                now,
                last_at,
                data_at=last_at,
                last_good_at=last_good,
                source="heartbeat",
                details={"runs": len(history)},
            )
        )
    return findings
