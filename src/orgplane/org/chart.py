"""The org chart as data: the reporting tree with each seat's kind, holder, owner, capabilities
and outputs, and whether each critical output has its failure response written down.

Built from indexes made in one pass over the org (not a scan of every output per seat), and
without recursion, so an org of thousands of seats, or one reporting line thousands of seats
long, draws in linear time."""

from __future__ import annotations

from typing import Any

from orgplane.org.models import InputProtocol, Org, Output, Seat


class _Index:
    """Who produces, reads and runs what, gathered once for the whole chart."""

    def __init__(self, org: Org) -> None:
        self.consumers: dict[str, dict[str, InputProtocol]] = {}
        for seat in org.active_seats():
            for output_id, protocol in seat.inputs.items():
                self.consumers.setdefault(output_id, {})[seat.id] = protocol
        self.produced: dict[str, list[Output]] = {}
        for output in org.outputs.values():
            self.produced.setdefault(output.producer, []).append(output)
        self.processes: dict[str, list[str]] = {}
        for process in org.processes.values():
            self.processes.setdefault(process.seat, []).append(process.id)

    def has_coverage(self, output: Output) -> bool:
        """:meth:`Org.has_coverage`, from the index."""
        if not self.consumers.get(output.id):
            return False
        return not output.critical or output.coverage_seat is not None

    def outputs_of(self, seat_id: str) -> list[dict[str, Any]]:
        return [
            {
                "id": output.id,
                "critical": output.critical,
                "coverage_seat": output.coverage_seat,
                "consumers": {
                    consumer: protocol.protocol
                    for consumer, protocol in self.consumers.get(output.id, {}).items()
                },
                "has_coverage": self.has_coverage(output),
            }
            for output in self.produced.get(seat_id, [])
        ]


def seat_outputs(org: Org, seat_id: str) -> list[dict[str, Any]]:
    """The outputs a seat produces, each with who reads it and whether its response is defined."""
    return _Index(org).outputs_of(seat_id)


def chart_data(org: Org) -> dict[str, Any]:
    """The chart as nested dicts (the ``orgplane chart --json`` shape)."""
    index = _Index(org)

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
            "outputs": index.outputs_of(seat.id),
            "processes": index.processes.get(seat.id, []),
            "reports": [],
        }

    children: dict[str | None, list[Seat]] = {}
    for seat in org.seats.values():
        parent = seat.reports_to if seat.reports_to in org.seats else None
        children.setdefault(parent, []).append(seat)
    roots = [node(root) for root in children.get(None, [])]
    # Walk down from the roots with a work list: seats in a reporting cycle are never reached
    # (the loader refuses cycles; an Org built in code may still hold one).
    pending = list(roots)
    while pending:
        parent_node = pending.pop()
        for child in children.get(parent_node["id"], []):
            child_node = node(child)
            parent_node["reports"].append(child_node)
            pending.append(child_node)
    critical = [o for o in org.outputs.values() if o.critical]
    return {
        "org": org.name,
        "seats": roots,
        "summary": {
            "seats": len(org.seats),
            "active_agents": sum(1 for s in org.active_seats() if s.kind == "agent"),
            "active_humans": sum(1 for s in org.active_seats() if s.kind == "human"),
            "retired": sum(1 for s in org.seats.values() if s.status == "retired"),
            "critical_outputs": len(critical),
            "critical_outputs_covered": sum(1 for o in critical if index.has_coverage(o)),
        },
    }


def chart_lines(data: dict[str, Any]) -> list[str]:
    """The chart of :func:`chart_data` as plain text lines with tree guides (``├──``), the same
    labels ``orgplane chart`` draws; built without recursion, and fast to print (no markup,
    one line per seat, capability list and output) however large or deep the org."""
    lines = [str(data["org"])]
    pending: list[tuple[dict[str, Any], str, bool]] = [
        (seat, "", index == len(data["seats"]) - 1)
        for index, seat in reversed(list(enumerate(data["seats"])))
    ]
    while pending:
        seat, prefix, last = pending.pop()
        lines.append(f"{prefix}{'└── ' if last else '├── '}{_seat_label(seat)}")
        inner = prefix + ("    " if last else "│   ")
        leaves = []
        if seat["capabilities"]:
            leaves.append(f"capabilities: {', '.join(seat['capabilities'])}")
        leaves.extend(_output_label(output) for output in seat["outputs"])
        reports = seat["reports"]
        for index, leaf in enumerate(leaves):
            end = index == len(leaves) - 1 and not reports
            lines.append(f"{inner}{'└── ' if end else '├── '}{leaf}")
        pending.extend(
            (child, inner, index == len(reports) - 1)
            for index, child in reversed(list(enumerate(reports)))
        )
    return lines


def _seat_label(seat: dict[str, Any]) -> str:
    label = f"{seat['id']} {seat['title']} ({seat['kind']}"
    if seat["holder"]:
        label += f", {seat['holder']}"
    if seat["owner"]:
        label += f", owner {seat['owner']}"
    label += ")"
    if seat["status"] == "retired":
        moved = ", ".join(f"{c} -> {s}" for c, s in seat["redistributed"].items())
        label += f" retired; {moved}"
    return label


def _output_label(output: dict[str, Any]) -> str:
    mark = ""
    if output["critical"]:
        mark = (
            " critical, coverage defined"
            if output["has_coverage"]
            else " critical, NO coverage protocol"
        )
    readers = ", ".join(f"{c}: {p}" for c, p in output["consumers"].items()) or "nobody reads it"
    return f"output {output['id']}{mark} ({readers})"
