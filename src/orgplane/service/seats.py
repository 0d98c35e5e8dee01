"""Use case: the seats of the chart as a flat list, for a surface to find a seat by (the MCP
server's ``list_seats``, the HTTP API). One seat in full is :func:`orgplane.service.health.show_seat`.
"""

from __future__ import annotations

from typing import Literal

from orgplane.service.models import Result
from orgplane.service.session import Session


class SeatSummary(Result):
    """A seat in a list: who holds it, whom it reports to, what it produces and reads."""

    id: str
    title: str
    kind: Literal["human", "agent"]
    holder: str | None
    reports_to: str | None
    owner: str | None
    status: Literal["active", "retired"]
    capabilities: list[str]
    outputs: list[str]
    inputs: dict[str, str]
    """Each input with its coverage protocol."""
    processes: list[str]


class SeatList(Result):
    """Every seat of the org in declaration order (``kind`` / ``status`` filters applied)."""

    org: str
    seats: list[SeatSummary]


def _summary(session: Session, seat_id: str) -> SeatSummary:
    org = session.org()
    seat = org.seats[seat_id]
    return SeatSummary(
        id=seat.id,
        title=seat.title,
        kind=seat.kind,
        holder=seat.holder,
        reports_to=seat.reports_to,
        owner=seat.owner,
        status=seat.status,
        capabilities=list(seat.capabilities),
        outputs=[o.id for o in org.outputs.values() if o.producer == seat.id],
        inputs={ident: p.protocol for ident, p in seat.inputs.items()},
        processes=[p.id for p in org.processes.values() if p.seat == seat.id],
    )


def list_seats(
    session: Session,
    *,
    kind: Literal["human", "agent"] | None = None,
    status: Literal["active", "retired"] | None = None,
) -> SeatList:
    """Every seat of the org, optionally only one ``kind`` or ``status``; reads the org file
    only (no store)."""
    org = session.org()
    seats = [
        _summary(session, s.id)
        for s in org.seats.values()
        if (kind is None or s.kind == kind) and (status is None or s.status == status)
    ]
    return SeatList(org=org.name, seats=seats)
