"""Use case: which outputs are not fresh now, with the seats reading each, read without
recording anything (the watcher stays the one that records), so any reader (an MCP client, an
API token with read access) may ask as often as it likes."""

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
    """Every declared output classified at ``now`` as ``check`` classifies it (through
    :func:`orgplane.service.health.current_findings`), with its readers; writes nothing."""
    from collections import Counter

    from orgplane.service.health import current_findings

    org = session.org()
    found = current_findings(session, now=now)
    by_output = {f.subject_id: f for f in found.findings if f.subject_kind == "output"}
    counts = Counter(f.status for f in by_output.values())
    rows = [
        OutputStatus(
            output=output.id,
            producer=output.producer,
            critical=output.critical,
            coverage_seat=output.coverage_seat,
            consumers={s: p.protocol for s, p in org.consumers_of(output.id).items()},
            finding=by_output[output.id],
        )
        for output in org.outputs.values()
        if include_fresh or by_output[output.id].status != "fresh"
    ]
    return OutputStatuses(
        ok=counts.get("fresh", 0) == len(org.outputs),
        at=found.checked_at,
        counts=dict(counts),
        outputs=rows,
    )
