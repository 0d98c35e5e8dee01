"""Use case: list the seats of the org with what each produces, reads and runs (one seat in
full, with its health and effective SOPs, is :func:`orgplane.service.health.show_seat`)."""

from __future__ import annotations

from typing import Literal

from orgplane.service.models import Result
from orgplane.service.session import Session


class SeatSummary(Result):
    """One seat in the list of seats."""

    id: str
    title: str
    kind: Literal["human", "agent"]
    holder: str | None
    status: Literal["active", "retired"]
    reports_to: str | None
    owner: str | None
    capabilities: list[str]
    outputs: list[str]
    inputs: list[str]
    processes: list[str]


class SeatList(Result):
    """Every declared seat, in the order of the org file."""

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
        status=seat.status,
        reports_to=seat.reports_to,
        owner=seat.owner,
        capabilities=list(seat.capabilities),
        outputs=[o.id for o in org.outputs.values() if o.producer == seat.id],
        inputs=list(seat.inputs),
        processes=[p.id for p in org.processes.values() if p.seat == seat.id],
    )


def list_seats(session: Session) -> SeatList:
    """Every seat of the org, active and retired, with what it produces, reads and runs."""
    org = session.org()
    return SeatList(org=org.name, seats=[_summary(session, ident) for ident in org.seats])
