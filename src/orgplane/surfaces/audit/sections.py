"""The weekly audit as sections of plain text: a title, columns and rows of cells.

Cells are plain text as it came (never markup); each renderer escapes them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orgplane.learn.audit import OrgSyncView
from orgplane.org.durations import humanize_age
from orgplane.respond.briefing import stamp
from orgplane.service.audit import WeeklyAudit

__all__ = ["Section", "sections", "summary_line", "window_line"]


@dataclass(frozen=True)
class Section:
    """One part of the audit: ``rows`` empty means ``empty`` is shown instead of a table."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    empty: str = "None."


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else humanize_age(timedelta(seconds=seconds))


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else stamp(moment)


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def window_line(audit: WeeklyAudit) -> str:
    """``Sneeze It, 2026-11-23 00:00 UTC to 2026-11-30 00:00 UTC``."""
    return f"{audit.org}, {stamp(audit.since)} to {stamp(audit.until)}"


def summary_line(audit: WeeklyAudit) -> str:
    """The headline figures in one sentence."""
    c = audit.counts
    return (
        f"{c.incidents} incident{_s(c.incidents)} ({c.new} new, {c.open} open, {c.closed} closed) "
        f"from {c.events} failure event{_s(c.events)}; {c.repeats} repeat{_s(c.repeats)}; "
        f"{c.learnings_applied} learning{_s(c.learnings_applied)} applied, "
        f"{c.learnings_not_held} that did not hold; "
        f"{c.follow_ups_overdue} follow-up{_s(c.follow_ups_overdue)} overdue; "
        f"{c.decisions_late} decision{_s(c.decisions_late)} past {'its' if c.decisions_late == 1 else 'their'} deadline; "
        f"{c.org_changes} change{_s(c.org_changes)} to the org"
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _grouped_changes(sync: OrgSyncView) -> dict[tuple[str, str], list[str]]:
    """A sync's item changes grouped by (entity, change): ``updated seat: dash (holder)``."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for c in sync.changes:
        item = f"{c.entity_id} ({', '.join(c.fields)})" if c.fields else c.entity_id
        grouped.setdefault((c.entity, c.change), []).append(item)
    return grouped


def sections(audit: WeeklyAudit) -> list[Section]:
    """Every section of the audit, in the order the COO reads them."""
    group_columns = ["incidents", "new", "open", "closed", "events"]
    return [
        Section(
            "Incidents by seat",
            ["seat", "title", *group_columns],
            [
                [g.key, _text(g.label), *map(str, (g.incidents, g.new, g.open, g.closed, g.events))]
                for g in audit.by_seat
            ],
            "No incidents this week.",
        ),
        Section(
            "Incidents by tier",
            ["tier", "action", *group_columns],
            [
                [g.key, _text(g.label), *map(str, (g.incidents, g.new, g.open, g.closed, g.events))]
                for g in audit.by_tier
            ],
            "No incidents this week.",
        ),
        Section(
            "Time to detect, decide, recover",
            ["step", "incidents", "median", "worst", "worst incident"],
            [
                [
                    t.step,
                    str(t.incidents),
                    _age(t.median_seconds),
                    _age(t.worst_seconds),
                    "-" if t.worst_incident is None else f"#{t.worst_incident}",
                ]
                for t in audit.times
            ],
        ),
        Section(
            "Repeats",
            ["incident", "seat", "subject", "kind", "events", "this week", "reopened", "status"],
            [
                [
                    f"#{i.id}",
                    _text(i.seat_id),
                    f"{i.subject_kind} {i.subject_id}",
                    i.kind,
                    str(i.events),
                    str(i.events_in_window),
                    str(i.reopened),
                    i.status,
                ]
                for i in audit.repeats
            ],
            "No incident failed twice.",
        ),
        Section(
            "Learnings applied",
            ["incident", "seat", "subject", "closed", "by", "change", "learning", "held"],
            [
                [
                    f"#{a.incident_id}",
                    _text(a.seat_id),
                    f"{a.subject_kind} {a.subject_id} {a.kind}",
                    _when(a.closed_at),
                    _text(a.closed_by),
                    _text(a.change_kind),
                    _text(a.learning),
                    {True: "yes", False: "no", None: "not tested yet"}[a.held],
                ]
                for a in audit.learnings_applied
            ],
            "No incident closed this week.",
        ),
        Section(
            "Learnings that did not hold",
            ["incident", "seat", "subject", "reopened", "learning", "status"],
            [
                [
                    f"#{n.incident_id}",
                    _text(n.seat_id),
                    f"{n.subject_kind} {n.subject_id} {n.kind}",
                    _when(n.reopened_at),
                    _text(n.learning),
                    n.status,
                ]
                for n in audit.learnings_not_held
            ],
            "Every learning tested this week held.",
        ),
        Section(
            "Follow-ups overdue",
            ["follow-up", "incident", "owner", "due", "overdue by", "nags", "text"],
            [
                [
                    f"#{f.id}",
                    f"#{f.incident_id}",
                    f.owner,
                    _when(f.due),
                    _age(f.overdue_seconds),
                    str(f.nags),
                    f.text,
                ]
                for f in audit.follow_ups_overdue
            ],
        ),
        Section(
            "Decisions past their deadline",
            ["decision", "seat", "subject", "tier", "action", "holder", "deadline", "late by"],
            [
                [
                    f"#{d.id}",
                    _text(d.seat_id),
                    f"{d.subject_kind} {d.subject_id} {d.kind}",
                    _text(d.tier),
                    d.action,
                    _text(d.holder or d.notify),
                    _when(d.deadline),
                    _age(d.late_seconds)
                    + (f" (ack ran out {stamp(d.acked_until)})" if d.acked_until else ""),
                ]
                for d in audit.decisions_late
            ],
        ),
        Section(
            "How the org changed",
            ["when", "cause", "by", "change", "items"],
            [
                [
                    _when(s.at),
                    (s.cause or "org file changed")
                    + (f" (incident #{s.incident_id})" if s.incident_id is not None else ""),
                    _text(s.actor),
                    f"{change} {entity}",
                    ", ".join(items),
                ]
                for s in audit.org_changes
                for (entity, change), items in _grouped_changes(s).items()
            ],
            "The org did not change this week.",
        ),
        # HOOK(delegation): the delegation ledger's "not really delegated" flags.
        Section(
            "Not really delegated",
            ["seat", "flag"],
            [
                [_text(flag.get("seat_id") or flag.get("seat")), _text(flag.get("reason"))]
                for flag in audit.not_really_delegated or []
            ],
            "The delegation ledger is not part of this audit yet."
            if audit.not_really_delegated is None
            else "None.",
        ),
    ]
