"""Use cases over the seats of the org: list them, show one with everything it works with.

Shared by every surface (HTTP API, MCP server, dashboard): a seat's outputs, its inputs with
the protocol it follows when one is not fresh, its processes, its owner and reporting line,
the open decisions about it, and its effective SOPs (its own, then those authored by the human
seats above it), so an agent session can ask for the rules it works under.
"""

from __future__ import annotations

from typing import Literal

from orgplane.service.decisions import DecisionView
from orgplane.service.models import Result
from orgplane.service.org import ChartOutput
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


class SeatInput(Result):
    """An input a seat reads and what it does when the input is not fresh."""

    output: str
    producer: str | None
    protocol: str
    escalate_to: str | None


class SopView(Result):
    """One SOP a seat works under and the seat that authored it (itself, or a human above)."""

    text: str
    from_seat: str
    inherited: bool


class SeatDetail(Result):
    """One seat with its outputs, inputs, processes, reporting line, open decisions and SOPs."""

    seat: SeatSummary
    reporting_line: list[str]
    """The seats above it, nearest first."""
    outputs: list[ChartOutput]
    inputs: list[SeatInput]
    sops: list[SopView]
    effective_sops: list[str]
    """The texts of ``sops``, in order: the seat's own, then the inherited ones."""
    open_decisions: list[DecisionView]


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


def show_seat(session: Session, seat_id: str) -> SeatDetail:
    """One seat in full: NotFoundError (listing the seats there are) for an undeclared one."""
    from orgplane.org.chart import seat_outputs
    from orgplane.org.lookup import find_declared
    from orgplane.service.decisions import list_decisions

    org = session.org()
    seat = find_declared(org.seats, "seat", seat_id)
    line = org.reporting_line(seat.id)
    sops = [SopView(text=s, from_seat=seat.id, inherited=False) for s in seat.sops]
    sops += [
        SopView(text=s, from_seat=above.id, inherited=True)
        for above in line
        if above.kind == "human"
        for s in above.sops
    ]
    inputs = [
        SeatInput(
            output=ident,
            producer=org.outputs[ident].producer if ident in org.outputs else None,
            protocol=protocol.protocol,
            escalate_to=protocol.escalate_to,
        )
        for ident, protocol in seat.inputs.items()
    ]
    mine = {o.id for o in org.outputs.values() if o.producer == seat.id}
    mine |= {p.id for p in org.processes.values() if p.seat == seat.id}
    mine |= {m.id for m in org.metrics.values() if m.owner == seat.id}
    decisions = [
        d
        for d in list_decisions(session, limit=1000).decisions
        if d.seat_id == seat.id or d.subject_id in mine or d.holder == seat.id
    ]
    return SeatDetail(
        seat=_summary(session, seat.id),
        reporting_line=[s.id for s in line],
        outputs=[ChartOutput.model_validate(o) for o in seat_outputs(org, seat.id)],
        inputs=inputs,
        sops=sops,
        effective_sops=org.effective_sops(seat.id),
        open_decisions=decisions,
    )
