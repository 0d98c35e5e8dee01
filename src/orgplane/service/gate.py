"""The coverage gate of a consuming seat: each input it declares, its protocol applied."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from orgplane.service.models import Result
from orgplane.service.permissions import require_own
from orgplane.service.session import Session


class GateInput(Result):
    """What the gate gives a seat for one input. ``current`` is true only for fresh content;
    ``last_good`` content carries its age; ``refused`` names why (and whom, for escalate)."""

    output: str
    producer: str
    status: str
    protocol: str
    given: Literal["content", "last_good", "nothing", "refused"]
    current: bool
    content: str | None
    content_at: datetime | None
    age_seconds: int | None
    age: str | None
    last_good_at: datetime | None
    escalate_to: str | None
    reason: str


class GateResult(Result):
    """Every input of ``seat`` at ``at``; ``ok`` when none is refused (``gate --json``)."""

    seat: str
    at: datetime
    ok: bool
    refused: list[str]
    inputs: list[GateInput]


def gate(
    session: Session, seat_id: str, *, now: datetime | None = None, actor: str | None = None
) -> GateResult:
    """Classify each input of ``seat_id`` as ``orgplane check`` does (read-only: transitions
    stay the watcher's to record), apply the seat's protocol, keep fresh file content the seat
    may later need as last good, and store every answer. NotFoundError for an undeclared seat;
    PermissionDenied when ``actor`` is another seat (a seat gates its own inputs)."""
    from orgplane.org.durations import humanize_age
    from orgplane.org.lookup import find_declared
    from orgplane.respond.gate import InputState, apply_protocol, record_answers
    from orgplane.store.types import utcnow
    from orgplane.watch.check import read_output
    from orgplane.watch.inspect import classify_output
    from orgplane.watch.lastgood import keep_fresh, kept_outputs, load_last_good
    from orgplane.watch.state import load_org_snapshot

    org = session.org()
    seat = find_declared(org.seats, "seat", seat_id)
    require_own(org, actor, seat.id, f"the gate answers of seat {seat_id}")
    at = now or utcnow()
    store = session.store()
    wanted = [ident for ident in seat.inputs if ident in org.outputs]
    with store.read() as conn:
        snap = load_org_snapshot(conn, org, at)
        last_good = load_last_good(conn, wanted)
    base = str(org.base_dir)
    states, readings = [], {}
    for ident in wanted:
        output = org.outputs[ident]
        reading = read_output(base, output, snap.published.get(ident), keep_raw=True)
        finding = classify_output(output, reading, at, snap.priors.get(("output", ident)))
        readings[ident] = reading
        states.append(
            InputState(
                ident,
                output.producer,
                finding.status,
                finding.reason,
                finding.data_at,
                finding.last_good_at,
                reading.raw if finding.status == "fresh" else None,
            )
        )
    answers = [
        apply_protocol(seat_id, s, seat.inputs[s.output_id], last_good.get(s.output_id), at)
        for s in states
    ]
    keep = kept_outputs(org)
    with store.write() as conn:
        for s in states:
            if s.content is not None and s.output_id in keep:
                keep_fresh(conn, s.output_id, readings[s.output_id], at)
        record_answers(conn, seat_id, answers, at)
    inputs = [
        GateInput(
            output=a.output_id,
            producer=a.producer,
            status=a.status,
            protocol=a.protocol,
            given=a.given,
            current=a.current,
            content=a.content.decode("utf-8", "replace") if a.content is not None else None,
            content_at=a.content_at,
            age_seconds=round(a.age.total_seconds()) if a.age is not None else None,
            age=humanize_age(a.age) if a.age is not None else None,
            last_good_at=a.last_good_at,
            escalate_to=a.escalate_to,
            reason=a.reason,
        )
        for a in answers
    ]
    refused = [i.output for i in inputs if i.given == "refused"]
    return GateResult(seat=seat_id, at=at, ok=not refused, refused=refused, inputs=inputs)
