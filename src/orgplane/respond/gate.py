"""The coverage gate: what a consuming seat is given for one input, its protocol applied.

:func:`apply_protocol` is pure: fresh content is given as current; anything else is never
current, whatever the protocol. ``skip_and_flag`` gives nothing and a flag; ``use_last_good``
gives the content last seen fresh, labelled with its age (or nothing and a flag when orgplane
never saw it fresh); ``block`` and ``escalate`` refuse, the latter naming the person.
:func:`record_answers` stores every answer, append-only (pruned by the org's retention).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, insert

from orgplane.org.durations import humanize_age
from orgplane.org.models import InputProtocol
from orgplane.store.tables import gate_answers
from orgplane.watch.lastgood import LastGood

Given = Literal["content", "last_good", "nothing", "refused"]


@dataclass(frozen=True, slots=True)
class InputState:
    """An input's output as classified now, with the bytes read when it is fresh."""

    output_id: str
    producer: str
    status: str
    reason: str
    data_at: datetime | None = None
    last_good_at: datetime | None = None
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the gate gives a seat for one input, and why."""

    output_id: str
    producer: str
    status: str
    protocol: str
    given: Given
    current: bool
    reason: str
    content: bytes | None = None
    content_at: datetime | None = None
    age: timedelta | None = None
    last_good_at: datetime | None = None
    escalate_to: str | None = None

    @property
    def refused(self) -> bool:
        """True when the seat must not go on (``block``, ``escalate``)."""
        return self.given == "refused"


def apply_protocol(
    seat_id: str,
    state: InputState,
    declared: InputProtocol,
    last_good: LastGood | None,
    now: datetime,
) -> Answer:
    """The answer for one input. Guarantees: ``current`` only for a ``fresh`` input, and then
    its content is the one just read; a non-fresh input gives last good content (labelled
    ``last_good`` with its age), nothing, or a refusal, never content labelled as current."""
    protocol = declared.protocol
    if state.status == "fresh" and state.content is not None:
        return Answer(
            state.output_id,
            state.producer,
            state.status,
            protocol,
            "content",
            True,
            f"{state.output_id} is fresh",
            content=state.content,
            content_at=state.data_at,
            age=now - state.data_at if state.data_at else None,
            last_good_at=state.last_good_at,
        )
    last_good_at = _last_good_at(state, last_good)
    why = (
        f"{state.output_id} from seat {state.producer} is {state.status}: {state.reason}; "
        f"{_when(last_good_at, now)}"
    )
    if protocol == "use_last_good" and last_good is not None:
        kept_at = last_good.data_at or last_good.kept_at
        return Answer(
            state.output_id,
            state.producer,
            state.status,
            protocol,
            "last_good",
            False,
            f"{why}; given the last good content, {humanize_age(now - kept_at)} old",
            content=last_good.content,
            content_at=kept_at,
            age=now - kept_at,
            last_good_at=last_good_at,
        )
    if protocol in ("skip_and_flag", "use_last_good"):
        skipped = "no good content was ever kept; " if protocol == "use_last_good" else ""
        return Answer(
            state.output_id,
            state.producer,
            state.status,
            protocol,
            "nothing",
            False,
            f"{why}; {skipped}skipped (skip it today, tell {state.producer}'s owner)",
            last_good_at=last_good_at,
        )
    if protocol == "escalate":
        return Answer(
            state.output_id,
            state.producer,
            state.status,
            protocol,
            "refused",
            False,
            f"{why}; refused: seat {seat_id} escalates this to {declared.escalate_to}",
            last_good_at=last_good_at,
            escalate_to=declared.escalate_to,
        )
    return Answer(
        state.output_id,
        state.producer,
        state.status,
        protocol,
        "refused",
        False,
        f"{why}; refused: seat {seat_id} blocks until {state.producer} fixes it",
        last_good_at=last_good_at,
    )


def record_answers(conn: Connection, seat_id: str, answers: Sequence[Answer], now: datetime) -> int:
    """Append one row per answer (who, which input, what was given, why, when); the count."""
    if not answers:
        return 0
    conn.execute(
        insert(gate_answers),
        [
            {
                "seat_id": seat_id,
                "output_id": a.output_id,
                "answered_at": now,
                "status": a.status,
                "protocol": a.protocol,
                "given": a.given,
                "current": a.current,
                "content_hash": hashlib.sha256(a.content).hexdigest() if a.content else None,
                "size": len(a.content) if a.content is not None else None,
                "content_at": a.content_at,
                "escalate_to": a.escalate_to,
                "reason": a.reason,
            }
            for a in answers
        ],
    )
    return len(answers)


def _last_good_at(state: InputState, last_good: LastGood | None) -> datetime | None:
    kept = (last_good.data_at or last_good.kept_at) if last_good else None
    if state.last_good_at and kept:
        return max(state.last_good_at, kept)
    return state.last_good_at or kept


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never seen good"
    return f"last good {moment.isoformat(timespec='minutes')} ({humanize_age(now - moment)} ago)"
