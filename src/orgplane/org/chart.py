"""The org chart as data: the reporting tree with each seat's kind, holder, owner, capabilities
and outputs, and whether each critical output has its failure response written down."""

from __future__ import annotations

from typing import Any

from orgplane.org.models import Org, Seat


def seat_outputs(org: Org, seat_id: str) -> list[dict[str, Any]]:
    """The outputs a seat produces, each with who reads it and whether its response is defined."""
    return [
        {
            "id": output.id,
            "critical": output.critical,
            "coverage_seat": output.coverage_seat,
            "consumers": {
                consumer: protocol.protocol
                for consumer, protocol in org.consumers_of(output.id).items()
            },
            "has_coverage": org.has_coverage(output.id),
        }
        for output in org.outputs.values()
        if output.producer == seat_id
    ]


def chart_data(org: Org) -> dict[str, Any]:
    """The chart as nested dicts (the ``orgplane chart --json`` shape)."""

    def node(seat: Seat) -> dict[str, Any]:
        return {
            "id": seat.id,
            "title": seat.title,
            "kind": seat.kind,
            "holder": seat.holder,
            "owner": seat.owner,
            "status": seat.status,
            "capabilities": list(seat.capabilities),
            "redistributed": dict(seat.retired.redistributed) if seat.retired else {},
            "outputs": seat_outputs(org, seat.id),
            "processes": [p.id for p in org.processes.values() if p.seat == seat.id],
            "reports": [node(child) for child in children.get(seat.id, [])],
        }

    children: dict[str | None, list[Seat]] = {}
    for seat in org.seats.values():
        parent = seat.reports_to if seat.reports_to in org.seats else None
        children.setdefault(parent, []).append(seat)
    critical = [o for o in org.outputs.values() if o.critical]
    return {
        "org": org.name,
        "seats": [node(root) for root in children.get(None, [])],
        "summary": {
            "seats": len(org.seats),
            "active_agents": sum(1 for s in org.active_seats() if s.kind == "agent"),
            "active_humans": sum(1 for s in org.active_seats() if s.kind == "human"),
            "retired": sum(1 for s in org.seats.values() if s.status == "retired"),
            "critical_outputs": len(critical),
            "critical_outputs_covered": sum(1 for o in critical if org.has_coverage(o.id)),
        },
    }
