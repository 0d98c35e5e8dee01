"""One pass over everything watched: every output, every schedule, every metric, every heartbeat.

Files are read outside any transaction (a slow disk never holds a database lock); the store is
read once before and written once after, with only what changed, so a pass over 10,000 files
costs a handful of statements, not one per file.
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orgplane.org.models import Org, Output
from orgplane.runs.handoffs import record_overdue
from orgplane.store.engine import Store
from orgplane.store.types import utcnow
from orgplane.watch.heartbeats import heartbeat_findings
from orgplane.watch.inspect import Finding, classify_output
from orgplane.watch.lastgood import keep_fresh_files, kept_outputs
from orgplane.watch.metrics import metric_findings
from orgplane.watch.readers import Reading, parse_content, read_file
from orgplane.watch.schedules import schedule_status, slots_as_dicts
from orgplane.watch.state import Published, Snapshot, load_org_snapshot, save_findings


@dataclass
class CheckReport:
    """The findings of one pass and the transitions it recorded."""

    checked_at: datetime
    findings: list[Finding]
    transitions: list[dict[str, Any]] = field(default_factory=list)
    overdue_handoffs: int = 0  # hand-offs that became a failure event in this pass

    @property
    def ok(self) -> bool:
        """True when every output is fresh and every schedule, metric and job is up."""
        return all(f.ok for f in self.findings)

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.status for f in self.findings))

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``orgplane check --json`` (see docs/watch.md)."""
        return {
            "ok": self.ok,
            "checked_at": self.checked_at,
            "counts": self.counts(),
            "findings": [f.as_dict() for f in self.findings],
            "transitions_recorded": len(self.transitions),
        }


PUSH_KINDS = ("observed", "publish")
"""The pings of an output that are pushes: a new data time seen on disk, a publish."""


def check_once(store: Store, org: Org, now: datetime | None = None) -> CheckReport:
    """Run one pass at ``now`` (default: the clock) and record its transitions once."""
    now = now or utcnow()
    with store.read() as conn:
        snap = load_org_snapshot(conn, org, now)
    kept = kept_outputs(org)
    readings: dict[str, Reading] = {}
    findings = evaluate(org, snap, now, readings, kept)
    scheduled = frozenset(o.id for o in org.outputs.values() if o.schedule)
    with store.write() as conn:
        transitions = save_findings(conn, findings, now, scheduled, snap.priors)
        # A person running late on a hand-off is a failure too: one event per item.
        overdue = record_overdue(conn, org, now)
    keep_fresh_files(store, org, findings, readings, now, snap.priors)
    return CheckReport(now, findings, transitions, overdue)


def evaluate(
    org: Org,
    snap: Snapshot,
    now: datetime,
    readings: dict[str, Reading] | None = None,
    keep: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every finding at ``now`` given the store's snapshot; reads files, writes nothing.

    The bytes of each fresh output named in ``keep`` are put in ``readings`` (the content the
    gate may later hand out as last good)."""
    findings: list[Finding] = []
    base = str(org.base_dir)
    for output in org.outputs.values():
        wanted = readings is not None and output.id in keep
        reading = read_output(base, output, snap.published.get(output.id), keep_raw=wanted)
        finding = classify_output(output, reading, now, snap.priors.get(("output", output.id)))
        if readings is not None and wanted and finding.status == "fresh":
            # Only the bytes and their time: the parsed content of thousands of files kept
            # alive to the end of the pass would cost the garbage collector more than the read.
            readings[output.id] = Reading(reading.source, data_at=reading.data_at, raw=reading.raw)
        findings.append(finding)
        if output.schedule:
            findings.append(_schedule_finding(org, output, finding, snap, now))
    findings.extend(metric_findings(org, snap, now))
    findings.extend(heartbeat_findings(org, snap, now))
    return findings


def read_output(
    base: str, output: Output, published: Published | None, *, keep_raw: bool = False
) -> Reading:
    """Read an output's state: its file (the newest match of a glob), else its latest publish,
    whichever was written last. Never raises. ``keep_raw``: keep the bytes on the reading."""
    if output.location:
        path, missing = locate(base, output.location)
        reading = read_located(path, missing, output, keep_raw=keep_raw)
        newer = published and (
            reading.missing or (reading.written_at and published.published_at > reading.written_at)
        )
        if not newer:
            return reading
    if published is None:
        return Reading(
            f"output {output.id}",
            missing=f"nothing published yet; publish it with 'orgplane publish {output.id}'",
        )
    reading = parse_content(
        published.content,
        output,
        f"the content published for {output.id}",
        published.published_at,
        keep_raw=keep_raw,
    )
    reading.same_content = published.repeats
    return reading


def read_located(
    path: str | None, missing: str, output: Output, *, keep_raw: bool = False
) -> Reading:
    """Read what :func:`locate` found; a listed file gone by now is reported as such."""
    if path is None:
        return Reading(output.location or output.id, missing=missing)
    reading = read_file(path, output, keep_raw=keep_raw)
    if reading.missing and missing and "does not exist" in reading.missing:
        reading.missing = missing  # it was listed a moment ago: say so
    return reading


def locate(base: str | Path, location: str) -> tuple[str | None, str]:
    """The file an output's location names (a glob picks the newest match by mtime).

    Returns the path and the reason to give if it turns out missing when read.
    """
    pattern = location if location.startswith("/") else f"{base}/{location}"
    if not glob.has_magic(location):
        return pattern, ""
    newest: tuple[float, str] | None = None
    for name in glob.iglob(pattern, recursive=True):
        try:
            mtime = os.stat(name).st_mtime
        except OSError:
            continue  # gone since it was listed: the next match counts
        if newest is None or mtime > newest[0]:
            newest = (mtime, name)
    if newest is None:
        return None, f"no file matches {location}"
    return newest[1], f"{newest[1]} disappeared between listing and reading"


def _schedule_finding(
    org: Org, output: Output, state: Finding, snap: Snapshot, now: datetime
) -> Finding:
    assert output.schedule is not None
    pushes = snap.pushes("output", output.id, PUSH_KINDS)
    pushes += snap.pushes("heartbeat", output.id, ("success",))
    if state.data_at is not None:
        pushes.append(state.data_at)
    prior = snap.priors.get(("schedule", output.id))
    if prior is not None and prior.data_at is not None:
        pushes.append(prior.data_at)  # the last push, when it is older than this pass reads
    failed = snap.last("heartbeat", output.id, "fail")
    status = schedule_status(output.schedule, output.grace, org.timezone, pushes, now, failed)
    return Finding(
        "schedule",
        output.id,
        output.producer,
        "missed" if status.status == "down" else status.status,
        status.reason,
        now,
        status.changed_at,
        data_at=status.last_push,
        last_good_at=status.last_push,
        deadline=status.deadline,
        source=f"schedule {output.schedule} ({org.timezone})",
        details={"summary": status.summary, "slots": slots_as_dicts(status.slots_today)},
    )
