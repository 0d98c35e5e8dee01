"""Fresh sample state for an example org, so a new folder shows a believable picture at once.

Shipped state files with fixed times would all be stale by the time anyone looks; these are
written with the current time by ``orgplane init`` and the demo.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orgplane.files import write_atomically
from orgplane.org.loader import load_org
from orgplane.org.models import Org, Output
from orgplane.store.types import utcnow

# What the agency example's seats write, so the sample reads like the story.
_BODIES: dict[str, dict[str, Any]] = {
    "dash-analysis": {
        "clients": [
            {"name": "Acme Dental", "spend": 1840.5, "leads": 23},
            {"name": "Brightside Roofing", "spend": 960.0, "leads": 11},
        ],
        "total_spend": 2800.5,
    },
    "nick-pipeline": {"batch": 30, "validated": 30, "drafted": 30, "in_doubt": 0},
    "pepper-triage": {"triaged": 41, "exceptions_to_client_lead": 2},
    "tally-kpis": {"leads-booked": 9, "ad-spend-pacing": 98.5, "calls-answered": 93.0},
    "arin-coaching": {"drafts": [{"for": "Amanda"}, {"for": "Erica"}]},
    "crystal-billing": {"reconciled": 14, "open_items": 1},
}


def fresh_sample_state(org_file: Path) -> list[Path]:
    """For ``orgplane init``: write sample state now for every declared file that does not exist
    yet (real state already there is never touched)."""
    return write_sample_state(load_org(org_file), utcnow(), only_missing=True)


def write_sample_state(org: Org, now: datetime, *, only_missing: bool = False) -> list[Path]:
    """Write fresh, valid content for every output with a plain file location; return the
    paths written. Files are replaced atomically, so a watcher never reads half of one."""
    written = []
    for output in org.outputs.values():
        if not output.location or glob.has_magic(output.location):
            continue
        path = org.base_dir / output.location
        if only_missing and path.exists():
            continue
        write_atomically(path, sample_content(output, now))
        written.append(path)
    return written


def sample_content(output: Output, now: datetime, stamp: str | None = None) -> bytes:
    """Content that passes ``output``'s checks with its timestamp at ``now`` (or ``stamp``)."""
    when = stamp or now.isoformat(timespec="seconds").replace("+00:00", "Z")
    if output.format == "csv":
        return _csv(output, now, stamp)
    if output.format == "text":
        return f"{output.id} as of {when}\n".encode()
    document: dict[str, Any] = dict(_BODIES.get(output.id, {"status": "ok"}))
    for name in output.checks.required:
        document.setdefault(name, "sample")
    for name, bounds in output.checks.ranges.items():
        document.setdefault(name, bounds.min if bounds.min is not None else 0)
    if output.timestamp:
        _set(document, output.timestamp, when)
    if output.format == "yaml":
        return "".join(f"{k}: {json.dumps(v)}\n" for k, v in document.items()).encode()
    return json.dumps(document, indent=2).encode()


def _csv(output: Output, now: datetime, stamp: str | None) -> bytes:
    columns = [output.timestamp] if output.timestamp else []
    columns += [c for c in [*output.checks.required, *output.checks.ranges] if c not in columns]
    columns += [c for c in ("agent", "calls", "answered") if c not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for hours, agent, calls in ((3, "Amanda", 41), (2, "Erica", 37), (0, "Amanda", 12)):
        at = (
            stamp
            if stamp and hours == 0
            else (now - timedelta(hours=hours)).isoformat(timespec="seconds")
        )
        row = {"agent": agent, "calls": calls, "answered": calls - 2}
        if output.timestamp:
            row[output.timestamp] = at
        writer.writerow([row.get(c, 0) for c in columns])
    return buffer.getvalue().encode()


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        document = document.setdefault(part, {})
    document[parts[-1]] = value
