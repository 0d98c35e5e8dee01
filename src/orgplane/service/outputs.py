"""Use case: which outputs are not fresh now, read without recording anything.

``orgplane check`` classifies every output too, but records each transition as a failure event;
this one only looks (the watcher stays the one that records), so any reader (an MCP client, the
dashboard, an API token with read access) may ask as often as it likes.
"""

from __future__ import annotations

from datetime import datetime

from orgplane.service.models import Result
from orgplane.service.session import Session
from orgplane.service.watch import FindingView


class OutputStatus(Result):
    """One output's state now, and what each seat reading it does while it is not fresh."""

    output: str
    producer: str
    critical: bool
    coverage_seat: str | None
    consumers: dict[str, str]
    """Each seat reading it, with its coverage protocol."""
    finding: FindingView


class OutputStatuses(Result):
    """Outputs that are not fresh at ``at`` (every output with ``include_fresh``); ``ok`` when
    every output is fresh. ``counts`` is per status over all outputs."""

    ok: bool
    at: datetime
    counts: dict[str, int]
    outputs: list[OutputStatus]


def output_statuses(
    session: Session, *, include_fresh: bool = False, now: datetime | None = None
) -> OutputStatuses:
    """Classify every declared output at ``now`` from its file or latest publish, as ``check``
    does, and write nothing (no events, no transitions)."""
    from collections import Counter

    from orgplane.store.types import utcnow
    from orgplane.watch.check import read_output
    from orgplane.watch.inspect import classify_output
    from orgplane.watch.state import load_org_snapshot

    org = session.org()
    at = now or utcnow()
    with session.store().read() as conn:
        snap = load_org_snapshot(conn, org, at)
    base = str(org.base_dir)
    rows: list[OutputStatus] = []
    counts: Counter[str] = Counter()
    for output in org.outputs.values():
        reading = read_output(base, output, snap.published.get(output.id))
        finding = classify_output(output, reading, at, snap.priors.get(("output", output.id)))
        counts[finding.status] += 1
        if finding.status == "fresh" and not include_fresh:
            continue
        rows.append(
            OutputStatus(
                output=output.id,
                producer=output.producer,
                critical=output.critical,
                coverage_seat=output.coverage_seat,
                consumers={s: p.protocol for s, p in org.consumers_of(output.id).items()},
                finding=FindingView.model_validate(finding.as_dict()),
            )
        )
    return OutputStatuses(
        ok=counts.get("fresh", 0) == len(org.outputs), at=at, counts=dict(counts), outputs=rows
    )
