"""The demo's watch step: the founder's two silent failures, caught.

Dash's analysis carries a corrupted timestamp (so Radar must not read it as current) and Tally's
latest KPI push missed its window after a source parse error (so the scorecard marks it stale
and says when the last clean push ran).
"""

from __future__ import annotations

import json
from datetime import timedelta

from rich.rule import Rule

from orgplane.files import write_atomically
from orgplane.service.session import Session
from orgplane.service.watch import check, scorecard
from orgplane.store.types import utcnow
from orgplane.surfaces.cli.output import console, esc
from orgplane.surfaces.cli.watch_commands import render_findings, render_scorecard
from orgplane.watch.heartbeats import record_heartbeat
from orgplane.watch.metrics import push_metric
from orgplane.watch.sample import write_sample_state
from orgplane.watch.schedules import slot_times, zone

_VALUES = {"leads-booked": 9.0, "ad-spend-pacing": 98.5, "calls-answered": 93.0}


def step_watch(demo: Session) -> None:
    """Corrupt Dash's timestamp, miss Tally's latest push, then run one check and the scorecard.

    The scenario's history (earlier clean pushes, a failed heartbeat) is written through the
    core with the times the story needs; what a person sees comes from the service.
    """
    console().print(Rule("Silent failures: a corrupted timestamp and a missed KPI push"))
    org, store, now = demo.org(), demo.store(), utcnow()
    write_sample_state(org, now)

    # Tally's earlier windows were clean; the one that closed most recently got nothing.
    tally = org.outputs["tally-kpis"]
    cron = tally.schedule or "0 7,11,15,19 * * *"
    closed = [
        s
        for s in slot_times(cron, zone(org.timezone), now - timedelta(days=1), now)
        if s + tally.grace <= now
    ]
    missed, clean = closed[-1], closed[-4:-1]
    for slot in clean:
        for metric, value in _VALUES.items():
            push_metric(store, org, metric, value, slot + timedelta(minutes=1), slot)
    tally_path = org.base_dir / (tally.location or "")
    kpis = json.loads(tally_path.read_text())
    kpis[tally.timestamp or "pushed_at"] = (clean[-1] + timedelta(minutes=1)).isoformat()
    write_atomically(tally_path, json.dumps(kpis, indent=2).encode())
    record_heartbeat(
        store, org, "tally-push", "fail", missed + timedelta(minutes=1), "SourceParseError"
    )
    check(demo, now=now)  # a pass before Dash's bad write, so findings know the last good
    local = zone(org.timezone)
    console().print(
        f"Tally pushed at {', '.join(s.astimezone(local).strftime('%H:%M') for s in clean)}; "
        f"the {missed.astimezone(local).strftime('%H:%M')} push failed on a source parse error."
    )

    dash = org.outputs["dash-analysis"]
    path = org.base_dir / (dash.location or "")
    document = json.loads(path.read_text())
    document[dash.timestamp or "generated_at"] = "2026-13-45"
    write_atomically(path, json.dumps(document, indent=2).encode())
    readers = ", ".join(f"{s} ({p.protocol})" for s, p in org.consumers_of(dash.id).items())
    console().print(
        f"Dash wrote {esc(dash.location)} with generated_at '2026-13-45'; it is read by {esc(readers)}."
    )

    console().print("\n[bold]orgplane check[/bold]")
    report = check(demo)  # not fresh is the point: exit 1 on the command line
    render_findings(report.findings, report.checked_at)
    console().print("\n[bold]orgplane scorecard[/bold]")
    render_scorecard(scorecard(demo))
