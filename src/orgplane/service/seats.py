"""Use cases over the seats of the chart: list them, show one with everything it works with.

Shared by every surface that looks at a seat (the MCP server's ``list_seats`` / ``show_seat``,
the HTTP API and the dashboard's seat page): the rules of what a seat reads, inherits and
answers for are applied here, never in a surface.
"""

from __future__ import annotations

from typing import Literal

from orgplane.service.decisions import DecisionView
from orgplane.service.models import Result
from orgplane.service.org import ChartOutput
from orgplane.service.session import Session

OPEN_DECISIONS_READ = 500
"""How many open decisions a seat's page looks through (newest first)."""


class SeatInput(Result):
    """One input a seat reads: whose output it is and what the seat does when it fails."""

    output: str
    producer: str | None
    """None when the org declares no such output (``orgplane validate`` reports it)."""
    protocol: str
    escalate_to: str | None
    note: str | None
    critical: bool
    coverage_seat: str | None


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


class Sop(Result):
    """A standard operating procedure a seat works under, and the seat that authored it."""

    text: str
    from_seat: str
    inherited: bool


class SeatProcess(Result):
    """A process a seat runs: its stages in order, and whether orgplane runs its code."""

    id: str
    description: str | None
    stages: list[str]
    effectful_stages: list[str]
    agent_run: bool
    """True when the process has no ``module:``: its agent records every stage by checkpoint."""


class SeatDetail(Result):
    """One seat with its outputs, inputs (with protocols), processes, owner, reporting line,
    open decisions and effective SOPs (its own, then those of the human seats above it)."""

    seat: SeatSummary
    reporting_line: list[str]
    """The seats above it, nearest first."""
    outputs: list[ChartOutput]
    inputs: list[SeatInput]
    processes: list[SeatProcess]
    sops: list[Sop]
    open_decisions: list[DecisionView]
    """Open decisions about this seat or waiting on it (its ``holder``), newest first."""


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


def show_seat(session: Session, seat_id: str) -> SeatDetail:
    """Everything ``seat_id`` works with, for a person or for the agent holding the seat to
    read the rules it works under. NotFoundError (listing the seats) for an undeclared seat."""
    from orgplane.org.chart import seat_outputs
    from orgplane.org.lookup import find_declared
    from orgplane.service.decisions import list_decisions

    org = session.org()
    seat = find_declared(org.seats, "seat", seat_id)
    inputs = []
    for ident, protocol in seat.inputs.items():
        output = org.outputs.get(ident)
        inputs.append(
            SeatInput(
                output=ident,
                producer=output.producer if output else None,
                protocol=protocol.protocol,
                escalate_to=protocol.escalate_to,
                note=protocol.note,
                critical=output.critical if output else False,
                coverage_seat=output.coverage_seat if output else None,
            )
        )
    processes = [
        SeatProcess(
            id=p.id,
            description=p.description,
            stages=[s.name for s in p.stages],
            effectful_stages=[s.name for s in p.stages if s.kind == "effectful"],
            agent_run=p.module is None,
        )
        for p in org.processes.values()
        if p.seat == seat.id
    ]
    sops = [Sop(text=text, from_seat=seat.id, inherited=False) for text in seat.sops]
    # The same order as Org.effective_sops: own first, then the human seats above, nearest first.
    line = org.reporting_line(seat.id)
    sops += [
        Sop(text=text, from_seat=above.id, inherited=True)
        for above in line
        if above.kind == "human"
        for text in above.sops
    ]
    open_views = list_decisions(session, limit=OPEN_DECISIONS_READ).decisions
    mine = [d for d in open_views if seat.id in (d.seat_id, d.holder)]
    return SeatDetail(
        seat=_summary(session, seat.id),
        reporting_line=[s.id for s in line],
        outputs=[ChartOutput.model_validate(o) for o in seat_outputs(org, seat.id)],
        inputs=inputs,
        processes=processes,
        sops=sops,
        open_decisions=mine,
    )
