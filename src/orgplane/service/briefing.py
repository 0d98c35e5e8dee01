"""The morning briefing of a consuming seat: its inputs through the gate, the decisions waiting
on a person, and the scorecard. Rendered by :mod:`orgplane.surfaces.briefing` (md, html)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from orgplane.service.decisions import DecisionState, DecisionView
from orgplane.service.gate import GateInput
from orgplane.service.models import Result
from orgplane.service.session import Session
from orgplane.service.watch import Scorecard

DECISIONS_READ = 1000
"""The most open decisions a briefing reads (newest first); past it, ``decisions_truncated``."""


class SeatRef(Result):
    """A seat as a briefing names it: id, title and who holds it."""

    id: str
    title: str | None
    holder: str | None


class BriefingSummary(Result):
    """What the briefing shows of an input's content: ``field`` (the declared summary field's
    value) or ``first_lines``; ``note`` says why a declared field was not used, or that the
    text was cut. ``as_of`` labels last-good content (``as of <time>, <age> old``); None means
    the content is current."""

    source: Literal["field", "first_lines"]
    field: str | None
    text: str
    note: str | None
    as_of: str | None


class BriefingInput(Result):
    """One input of the seat, in declaration order. ``fresh`` and ``current`` are true only
    for content fresh now; anything else carries a ``flag`` (producer, output, last good,
    action) and, when last-good content is shown, its ``as_of`` label."""

    output: str
    description: str | None
    producer: SeatRef
    status: str
    fresh: bool
    protocol: str
    given: Literal["content", "last_good", "nothing", "refused"]
    current: bool
    action: str
    content_at: datetime | None
    age: str | None
    last_good_at: datetime | None
    escalated_to: SeatRef | None
    summary: BriefingSummary | None
    flag: str | None
    reason: str


class BriefingDecision(Result):
    """An open decision waiting on a person; ``ack`` is the command that acknowledges it."""

    id: int
    state: DecisionState
    kind: str
    subject_kind: str
    subject_id: str
    seat_id: str | None
    tier: str | None
    action: str
    notify: SeatRef | None
    deadline: datetime
    acked_until: datetime | None
    rule: str
    ack: str


class BriefingCounts(Result):
    """The header's figures."""

    inputs: int
    fresh: int
    flagged: int
    decisions_awaiting: int
    other_open_decisions: int
    metrics: int
    metrics_stale: int


class Briefing(Result):
    """A seat's briefing (``brief SEAT --json``). ``ok`` when every input is fresh and no
    metric is stale (else ``brief`` exits 1, as ``check`` does)."""

    seat: SeatRef
    org: str
    compiled_at: datetime
    ok: bool
    counts: BriefingCounts
    inputs: list[BriefingInput]
    decisions: list[BriefingDecision]
    other_decisions: dict[str, int]
    """The other open decisions (waiting on nobody now), counted by action."""
    decisions_truncated: bool
    scorecard: Scorecard


def compile_briefing(session: Session, seat_id: str, *, now: datetime | None = None) -> Briefing:
    """Compile ``seat_id``'s briefing at ``now``: each input the gate answers (its answers are
    stored, as ``gate`` stores them) in declaration order, the open decisions waiting on a
    person (live first, then acknowledged, soonest deadline first), and the scorecard.
    Guarantees: content is labelled current only when fresh now; last-good content always
    carries its ``as of`` label. NotFoundError for an undeclared seat; UsageError for a seat
    that declares no inputs."""
    from orgplane.errors import UsageError
    from orgplane.org.lookup import find_declared
    from orgplane.service.decisions import list_decisions
    from orgplane.service.gate import gate
    from orgplane.service.watch import scorecard
    from orgplane.store.types import utcnow

    org = session.org()
    seat = find_declared(org.seats, "seat", seat_id)
    if not seat.inputs:
        readers = sorted(s.id for s in org.active_seats() if s.inputs)
        hint = f"brief one that does ({', '.join(readers)})" if readers else "add one"
        raise UsageError(
            f"seat {seat_id!r} declares no inputs, so it has no briefing; add "
            f"'inputs:' under seats.{seat_id} in the org file, or {hint}"
        )
    at = now or utcnow()
    answers = gate(session, seat_id, now=at)
    inputs = [_input(session, seat_id, item, at) for item in answers.inputs]
    open_views = list_decisions(session, limit=DECISIONS_READ).decisions
    decisions = _awaiting(session, open_views, at)
    card = scorecard(session, now=at)
    stale_metrics = sum(1 for m in card.metrics if m.stale)
    fresh = sum(1 for i in inputs if i.fresh)
    counts = BriefingCounts(
        inputs=len(inputs),
        fresh=fresh,
        flagged=len(inputs) - fresh,
        decisions_awaiting=len(decisions),
        other_open_decisions=len(open_views) - len(decisions),
        metrics=len(card.metrics),
        metrics_stale=stale_metrics,
    )
    return Briefing(
        seat=_seat(session, seat_id) or SeatRef(id=seat_id, title=None, holder=None),
        org=org.name,
        compiled_at=at,
        ok=fresh == len(inputs) and stale_metrics == 0,
        counts=counts,
        inputs=inputs,
        decisions=decisions,
        other_decisions=_other_actions(open_views, decisions),
        decisions_truncated=len(open_views) >= DECISIONS_READ,
        scorecard=card,
    )


def _seat(session: Session, seat_id: str | None) -> SeatRef | None:
    seat = session.org().seats.get(seat_id) if seat_id else None
    if seat_id is None:
        return None
    if seat is None:
        return SeatRef(id=seat_id, title=None, holder=None)
    return SeatRef(id=seat.id, title=seat.title, holder=seat.holder)


def _input(session: Session, seat_id: str, item: GateInput, now: datetime) -> BriefingInput:
    from orgplane.respond.briefing import action_taken, as_of, last_good, summarize

    output = session.org().outputs[item.output]
    producer = _seat(session, item.producer) or SeatRef(id=item.producer, title=None, holder=None)
    escalated = _seat(session, item.escalate_to)
    label = (
        as_of(item.content_at, item.age or "?")
        if item.given == "last_good" and item.content_at is not None
        else None
    )
    summary = None
    if item.content is not None and item.given in ("content", "last_good"):
        found = summarize(output, item.content.encode("utf-8"))
        summary = BriefingSummary(
            source=found.source, field=found.field, text=found.text, note=found.note, as_of=label
        )
    who = _person(escalated)
    action = action_taken(
        item.given,
        item.protocol,
        seat_id=seat_id,
        producer=item.producer,
        escalated_to=who,
        as_of=label,
    )
    flag = None
    if item.status != "fresh":
        good = last_good(item.last_good_at, now)
        flag = f"{item.output} from seat {_person(producer)} is {item.status}; {good}; {action}"
    return BriefingInput(
        output=item.output,
        description=output.description,
        producer=producer,
        status=item.status,
        fresh=item.status == "fresh",
        protocol=item.protocol,
        given=item.given,
        current=item.current,
        action=action,
        content_at=item.content_at,
        age=item.age,
        last_good_at=item.last_good_at,
        escalated_to=escalated,
        summary=summary,
        flag=flag,
        reason=item.reason,
    )


def _person(seat: SeatRef | None) -> str | None:
    """``client-lead (Janine)``: the seat id with its holder when one is named."""
    if seat is None:
        return None
    return f"{seat.id} ({seat.holder})" if seat.holder else seat.id


def _other_actions(views: list[DecisionView], chosen: list[BriefingDecision]) -> dict[str, int]:
    shown = {d.id for d in chosen}
    counted: dict[str, int] = {}
    for view in views:
        if view.id not in shown:
            counted[view.action] = counted.get(view.action, 0) + 1
    return dict(sorted(counted.items()))


def _awaiting(session: Session, views: list[DecisionView], now: datetime) -> list[BriefingDecision]:
    from orgplane.respond.briefing import awaiting_person

    chosen: list[BriefingDecision] = []
    for view in views:
        if not awaiting_person(view.action, view.notify, view.deadline, now):
            continue
        acked = view.acked_until is not None and view.acked_until > now
        chosen.append(
            BriefingDecision(
                id=view.id,
                state="acknowledged" if acked else "live",
                kind=view.kind,
                subject_kind=view.subject_kind,
                subject_id=view.subject_id,
                seat_id=view.seat_id,
                tier=view.tier,
                action=view.action,
                notify=_seat(session, view.notify),
                deadline=view.deadline,
                acked_until=view.acked_until if acked else None,
                rule=view.rule,
                ack=view.ack,
            )
        )
    chosen.sort(key=lambda d: (d.state != "live", d.deadline, d.id))
    return chosen


class BriefingSeat(Result):
    """A seat that has a briefing: it declares inputs."""

    seat: SeatRef
    inputs: int


class BriefingSeats(Result):
    """Every active seat with a briefing, in the org file's order."""

    seats: list[BriefingSeat]


def briefing_seats(session: Session) -> BriefingSeats:
    """The active seats that declare inputs (those :func:`compile_briefing` can brief)."""
    return BriefingSeats(
        seats=[
            BriefingSeat(
                seat=SeatRef(id=s.id, title=s.title, holder=s.holder), inputs=len(s.inputs)
            )
            for s in session.org().active_seats()
            if s.inputs
        ]
    )
