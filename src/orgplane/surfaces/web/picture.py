"""What the chart's SVG draws: each seat's box placed by :mod:`.layout`, with the words and
colours of its health, from the service's chart and health results (no rule decided here)."""

from __future__ import annotations

from dataclasses import dataclass

from orgplane.service.health import HealthReport
from orgplane.service.org import Chart, ChartSeat
from orgplane.surfaces.web.layout import Box, Layout, Link, tidy_layout

HOLDER_CHARS = 17
TITLE_CHARS = 23
"""A box holds about this many characters of its bold first line and of its smaller second
line; longer text is cut with an ellipsis (the whole of it is in the box's tooltip and on the
seat's page)."""


@dataclass(frozen=True, slots=True)
class SeatBox:
    """One seat as drawn: where, what it says, and its health."""

    box: Box
    id: str
    title: str
    holder: str
    kind: str
    health: str
    reasons: list[str]
    uncovered: list[str]
    tooltip: str


@dataclass(frozen=True, slots=True)
class Picture:
    """The whole chart: boxes, reporting lines and the picture's size."""

    seats: list[SeatBox]
    links: list[Link]
    width: float
    height: float


def picture(chart: Chart, health: HealthReport) -> Picture:
    """The chart as boxes coloured by health; a seat the health report does not know (an org
    changed between the two reads) is drawn as fresh rather than dropped."""
    layout: Layout = tidy_layout(chart.seats)
    by_id = {h.seat: h for h in health.seats}
    seats: list[SeatBox] = []
    pending: list[ChartSeat] = list(chart.seats)
    while pending:
        seat = pending.pop()
        pending.extend(seat.reports)
        state = by_id.get(seat.id)
        reasons = state.reasons if state else []
        uncovered = state.uncovered_outputs if state else []
        tip = [f"{seat.id}: {seat.title} ({seat.kind}{', ' + seat.holder if seat.holder else ''})"]
        tip.append(f"health: {state.health if state else 'fresh'}")
        tip.extend(reasons[:5])
        if uncovered:
            tip.append("no coverage protocol: " + ", ".join(uncovered))
        seats.append(
            SeatBox(
                box=layout.boxes[seat.id],
                id=seat.id,
                title=_cut(seat.title, TITLE_CHARS),
                holder=_cut(seat.holder or seat.id, HOLDER_CHARS),
                kind=seat.kind,
                health=state.health if state else "fresh",
                reasons=reasons,
                uncovered=uncovered,
                tooltip="\n".join(tip),
            )
        )
    seats.sort(key=lambda s: (s.box.y, s.box.x))
    return Picture(seats=seats, links=layout.links, width=layout.width, height=layout.height)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
