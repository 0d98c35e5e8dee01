"""Use case: what is not fresh now, without recording anything (a read for the API, the MCP
server and the dashboard; ``orgplane check`` is the pass that records transitions)."""

from __future__ import annotations

from datetime import datetime

from orgplane.service.models import Result
from orgplane.service.session import Session
from orgplane.service.watch import FindingView


class Findings(Result):
    """The state of every watched subject at ``checked_at`` (or only those not ``ok``)."""

    ok: bool
    checked_at: datetime
    counts: dict[str, int]
    findings: list[FindingView]


def current_findings(
    session: Session, *, not_ok_only: bool = False, now: datetime | None = None
) -> Findings:
    """Classify every output, schedule, metric and heartbeat at ``now`` as ``check`` does,
    reading files and the store but writing nothing (transitions stay the watcher's to record).
    ``ok`` and ``counts`` cover every subject; ``not_ok_only`` keeps only the findings that are
    not ok (outputs not fresh, schedules missed, metrics stale, jobs down)."""
    from collections import Counter

    from orgplane.store.types import utcnow
    from orgplane.watch.check import evaluate
    from orgplane.watch.state import load_org_snapshot

    at = now or utcnow()
    org = session.org()
    with session.store().read() as conn:
        snap = load_org_snapshot(conn, org, at)
    found = evaluate(org, snap, at)
    shown = [f for f in found if not (not_ok_only and f.ok)]
    return Findings(
        ok=all(f.ok for f in found),
        checked_at=at,
        counts=dict(Counter(f.status for f in found)),
        findings=[FindingView.model_validate(f.as_dict()) for f in shown],
    )
