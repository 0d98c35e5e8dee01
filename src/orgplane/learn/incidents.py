"""Incidents as stored: one, many, an incident's timeline and its response times.

An incident groups decided failure events of one signature (seat, subject, kind); they are
filed by :mod:`orgplane.learn.filing` and closed only by the close gate
(:mod:`orgplane.learn.learnings`). The timeline is append-only: an incident's first detected
and decided steps are its own columns and its first event's decision, later steps are rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select

from orgplane.errors import NotFoundError
from orgplane.store.tables import decision_events, decisions, events, incident_steps, incidents
from orgplane.store.types import utcnow

__all__ = [
    "decided_step",
    "detected_step",
    "get_incident",
    "incident_times",
    "list_incidents",
    "open_incident_of_run",
    "record_step",
    "steps_of",
]


STEPS = (
    "detected",
    "decided",
    "repeated",
    "acknowledged",
    "recovered",
    "reopened",
    "resumed",
    "forced",
    "closed",
)
"""Timeline steps, in the order they usually happen. ``repeated`` is written only when an event
comes back after its incident recovered (a repeat while still failing is only counted)."""


def decided_step(row: dict[str, Any]) -> dict[str, Any]:
    """The ``decided`` timeline step of an event row joined to its decision."""
    return {
        "step": "decided",
        "at": row["decided_at"],
        "actor": None,
        "event_id": row["id"],
        "decision_id": row["decision_id"],
        "detail": {
            "tier": row["tier"],
            "action": row["action"],
            "notify": row["notify"],
            "rule": row["rule"],
        },
    }


def detected_step(row: dict[str, Any], step: str = "detected") -> dict[str, Any]:
    """The ``detected`` (or ``repeated``/``reopened``) timeline step of an event row."""
    return {
        "step": step,
        "at": row["recorded_at"],
        "actor": None,
        "event_id": row["id"],
        "decision_id": None,
        "detail": {"occurred_at": row["occurred_at"].isoformat(), "message": row["message"]},
    }


def record_step(
    conn: Connection,
    incident_id: int,
    step: str,
    *,
    actor: str | None = None,
    at: datetime | None = None,
    event_id: int | None = None,
    decision_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one step to an incident's timeline (who did what and when), in the caller's
    transaction; the timeline is never rewritten."""
    conn.execute(
        insert(incident_steps).values(
            incident_id=incident_id,
            step=step,
            at=at or utcnow(),
            actor=actor,
            event_id=event_id,
            decision_id=decision_id,
            detail=detail or {},
        )
    )


def get_incident(conn: Connection, incident_id: int) -> dict[str, Any]:
    """The incident row ``incident_id``; NotFoundError naming how to list them otherwise."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    if row is None:
        raise NotFoundError(f"no incident {incident_id}; list them with 'orgplane incidents'")
    return dict(row._mapping)


def steps_of(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    """An incident's timeline in the order orgplane learned each step: ``detected`` and
    ``decided`` from its first event and decision, then the stored steps."""
    incident = get_incident(conn, incident_id)
    first = conn.execute(
        select(
            events.c.id,
            events.c.occurred_at,
            events.c.recorded_at,
            events.c.message,
            decision_events.c.decided_at,
            decisions.c.id.label("decision_id"),
            decisions.c.tier,
            decisions.c.action,
            decisions.c.notify,
            decisions.c.rule,
        )
        .select_from(
            events.outerjoin(decision_events, decision_events.c.event_id == events.c.id).outerjoin(
                decisions, decisions.c.id == decision_events.c.decision_id
            )
        )
        .where(events.c.id == incident["first_event_id"])
    ).one()
    opening = dict(first._mapping)
    synthesized = [{**detected_step(opening), "id": None, "incident_id": incident_id}]
    if opening["decided_at"] is not None:
        synthesized.append({**decided_step(opening), "id": None, "incident_id": incident_id})
    rows = conn.execute(
        select(incident_steps)
        .where(incident_steps.c.incident_id == incident_id)
        .order_by(incident_steps.c.id)
    )
    return synthesized + [dict(r._mapping) for r in rows]


def list_incidents(
    conn: Connection,
    *,
    open_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Incidents newest first; ``open_only`` keeps the open ones; ``since``/``until`` bound
    when they first occurred (or, for a reopened one, when it was last active)."""
    query = select(incidents).order_by(incidents.c.id.desc())
    if open_only:
        query = query.where(incidents.c.status == "open")
    if since is not None:
        query = query.where(or_(incidents.c.occurred_at >= since, incidents.c.updated_at >= since))
    if until is not None:
        query = query.where(incidents.c.occurred_at < until)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def open_incident_of_run(conn: Connection, run_id: str) -> dict[str, Any] | None:
    """The open incident a run's failure belongs to (the newest), if any."""
    row = conn.execute(
        select(incidents)
        .where(and_(incidents.c.run_id == run_id, incidents.c.status == "open"))
        .order_by(incidents.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


def incident_times(incident: dict[str, Any]) -> dict[str, timedelta | None]:
    """Time to detect (occurred -> stored), to decide (stored -> decided) and to recover
    (occurred -> recovered) of one incident row; None where the step has not happened."""

    def between(start: datetime | None, end: datetime | None) -> timedelta | None:
        if start is None or end is None:
            return None
        return max(end - start, timedelta(0))

    return {
        "detect": between(incident["occurred_at"], incident["detected_at"]),
        "decide": between(incident["detected_at"], incident["decided_at"]),
        "recover": between(incident["occurred_at"], incident["recovered_at"]),
    }
