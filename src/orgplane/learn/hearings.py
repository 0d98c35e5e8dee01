"""Retirement hearings: what still points at a seat, the verdict's reassignments, the edit.

A seat is retired only when nothing is left pointing at it without a new home. The references
come from two places: the declared org (a capability it holds, an output it produces or covers,
a process it runs, a metric it owns, a seat that reports to it or that it owns, an urgency tier
that notifies it, an input, handled error or rule that escalates or raises to it) and the store
(an open decision about it, an open incident, a run of it in progress). Each declared reference
has a key a person types as ``--give KEY=SEAT``; the refusal lists every missing one with the
exact ``--give`` to add. Stored references cannot be given away: they must be settled first.

:func:`declared_references` and :func:`plan_retirement` are pure; :func:`retire_in_document`
applies a checked plan to the round-trip document (``org/edit.py`` validates and writes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from orgplane.errors import UsageError
from orgplane.org.models import Org


@dataclass(frozen=True)
class Reference:
    """Something that points at the seat: ``key`` is what ``--give KEY=SEAT`` names (None for
    a stored reference, which must be settled instead); ``human`` when the new home must be a
    person (an owner, a tier's notify, an escalation)."""

    kind: str
    key: str | None
    description: str
    human: bool = False
    fix: str | None = None

    def hint(self) -> str:
        """The refusal's line for it: what points at the seat and how to give it a home."""
        if self.key is None:
            return f"{self.description}: {self.fix}"
        target = "HUMAN_SEAT" if self.human else "SEAT"
        return f"{self.description}: add --give {self.key}={target}"


def declared_references(org: Org, seat_id: str) -> list[Reference]:
    """Everything in the declared org that points at ``seat_id``, in a stable order."""
    found: list[Reference] = []
    seat = org.seats[seat_id]
    for capability in seat.capabilities:
        found.append(Reference("capability", capability, f"capability {capability}"))
    for output in org.outputs.values():
        if output.producer == seat_id:
            found.append(
                Reference("output", f"output:{output.id}", f"output {output.id} (producer)")
            )
        if output.coverage_seat == seat_id:
            found.append(
                Reference(
                    "coverage", f"coverage:{output.id}", f"output {output.id} (coverage_seat)"
                )
            )
    for process in org.processes.values():
        if process.seat == seat_id:
            found.append(Reference("process", f"process:{process.id}", f"process {process.id}"))
        for index, handled in enumerate(process.handled_errors):
            if handled.escalate_to == seat_id:
                found.append(
                    Reference(
                        "escalation",
                        f"escalate:{process.id}:{index}",
                        f"process {process.id} handled error {handled.match!r} (escalate_to)",
                        human=True,
                    )
                )
    for metric in org.metrics.values():
        if metric.owner == seat_id:
            found.append(Reference("metric", f"metric:{metric.id}", f"metric {metric.id} (owner)"))
    for other in org.seats.values():
        if other.id == seat_id:
            continue
        if other.reports_to == seat_id:
            found.append(
                Reference("reports", f"reports:{other.id}", f"seat {other.id} reports to it")
            )
        if other.owner == seat_id:
            found.append(
                Reference("owner", f"owner:{other.id}", f"seat {other.id} is owned by it", True)
            )
        for output_id, protocol in other.inputs.items():
            if protocol.escalate_to == seat_id:
                found.append(
                    Reference(
                        "input",
                        f"input:{other.id}:{output_id}",
                        f"seat {other.id}'s input {output_id} escalates to it",
                        human=True,
                    )
                )
    for tier_id, tier in org.urgency.items():
        if tier.notify == seat_id:
            found.append(
                Reference("tier", f"tier:{tier_id}", f"urgency tier {tier_id} notifies it", True)
            )
        for index, rule in enumerate(tier.when):
            if rule.seat == seat_id:
                found.append(
                    Reference(
                        "rule",
                        f"rule:{tier_id}:{index}",
                        f"urgency tier {tier_id}'s when rule {index + 1} selects it",
                    )
                )
    return found


def parse_gives(values: Iterable[str]) -> dict[str, str]:
    """``--give KEY=SEAT`` values as a mapping; UsageError for one without ``=`` or repeated.

    The seat is after the last ``=`` (a seat id has none; a capability name might)."""
    gives: dict[str, str] = {}
    for value in values:
        key, sep, seat = value.rpartition("=")
        key, seat = key.strip(), seat.strip()
        if not sep or not key or not seat:
            raise UsageError(
                f"--give {value!r} is not KEY=SEAT: write e.g. --give pacing-monitor=dash "
                "or --give output:dash-analysis=dan"
            )
        if key in gives and gives[key] != seat:
            raise UsageError(f"--give {key} is given twice ({gives[key]} and {seat}); give it once")
        gives[key] = seat
    return gives


@dataclass(frozen=True)
class Plan:
    """A checked retirement: each declared reference's key with the seat that takes it."""

    seat: str
    gives: dict[str, str]
    references: list[Reference]

    @property
    def redistributed(self) -> dict[str, str]:
        """The capabilities and who now holds each (the ``retired.redistributed`` block)."""
        return {
            r.key: self.gives[r.key] for r in self.references if r.kind == "capability" and r.key
        }


def plan_retirement(org: Org, seat_id: str, gives: dict[str, str], stored: list[Reference]) -> Plan:
    """The retirement of ``seat_id`` with ``gives``, checked: every declared reference has a
    new home that is an active seat other than this one (a human where a person is needed),
    every ``--give`` names something that points at the seat, and nothing stored (``stored``)
    still needs it. UsageError otherwise, naming each problem and the ``--give`` to add."""
    seat = org.seats[seat_id]
    if seat.status != "active":
        raise UsageError(f"seat {seat_id} is already retired; nothing to decide")
    references = declared_references(org, seat_id)
    keys = {r.key for r in references if r.key}
    problems: list[str] = []
    for reference in references:
        assert reference.key is not None
        taker_id = gives.get(reference.key)
        if taker_id is None:
            problems.append(reference.hint())
            continue
        taker = org.seats.get(taker_id)
        if taker_id == seat_id:
            problems.append(f"--give {reference.key}={taker_id} gives it back to the seat retired")
        elif taker is None:
            problems.append(f"--give {reference.key}={taker_id}: {taker_id} is not a seat")
        elif taker.status != "active":
            problems.append(f"--give {reference.key}={taker_id}: {taker_id} is retired")
        elif reference.human and taker.kind != "human":
            problems.append(
                f"--give {reference.key}={taker_id}: {taker_id} is an agent; "
                f"{reference.description} needs a human seat"
            )
        elif reference.kind == "reports" and reference.key == f"reports:{taker_id}":
            problems.append(f"--give {reference.key}={taker_id}: a seat cannot report to itself")
    for key in gives:
        if key not in keys:
            problems.append(f"--give {key}=... names nothing that points at {seat_id}")
    problems.extend(r.hint() for r in stored)
    if problems:
        missing = [
            f"--give {r.key}={'HUMAN_SEAT' if r.human else 'SEAT'}"
            for r in references
            if r.key and r.key not in gives
        ]
        together = f"; all the --give flags missing: {' '.join(missing)}" if missing else ""
        raise UsageError(
            f"seat {seat_id} cannot be retired yet, {len(problems)} to settle: "
            + "; ".join(problems)
            + together
        )
    return Plan(seat=seat_id, gives=dict(gives), references=references)


def retire_in_document(document: CommentedMap, plan: Plan, on: date, reason: str | None) -> None:
    """Apply ``plan`` to the round-trip document: every reference moved to its new home, the
    seat marked retired with its ``retired`` block. Keys, comments and order are kept."""
    seats = document["seats"]
    seat = seats[plan.seat]
    for reference in plan.references:
        assert reference.key is not None
        taker = plan.gives[reference.key]
        _move(document, reference, taker)
    if "capabilities" in seat:
        del seat["capabilities"]
    seat["status"] = "retired"
    block: dict[str, Any] = {"on": on}
    if reason:
        block["reason"] = reason
    if plan.redistributed:
        block["redistributed"] = CommentedMap(plan.redistributed)
    seat["retired"] = CommentedMap(block)


def _move(document: CommentedMap, reference: Reference, taker: str) -> None:
    assert reference.key is not None
    kind = reference.kind
    parts = reference.key.split(":")
    if kind == "capability":
        receiver = document["seats"][taker]
        held = receiver.get("capabilities")
        if held is None:
            held = CommentedSeq()
            held.fa.set_flow_style()
            receiver["capabilities"] = held
        held.append(reference.key)
    elif kind == "output":
        document["outputs"][parts[1]]["producer"] = taker
    elif kind == "coverage":
        document["outputs"][parts[1]]["coverage_seat"] = taker
    elif kind == "process":
        document["processes"][parts[1]]["seat"] = taker
    elif kind == "escalation":
        document["processes"][parts[1]]["handled_errors"][int(parts[2])]["escalate_to"] = taker
    elif kind == "metric":
        document["metrics"][parts[1]]["owner"] = taker
    elif kind == "reports":
        document["seats"][parts[1]]["reports_to"] = taker
    elif kind == "owner":
        document["seats"][parts[1]]["owner"] = taker
    elif kind == "input":
        inputs = document["seats"][parts[1]]["inputs"]
        output_id = ":".join(parts[2:])
        inputs[output_id]["escalate_to"] = taker
    elif kind == "tier":
        document["urgency"][parts[1]]["notify"] = taker
    elif kind == "rule":
        document["urgency"][parts[1]]["when"][int(parts[2])]["seat"] = taker
    else:  # pragma: no cover - every declared kind is handled above
        raise AssertionError(kind)


def remaining_references(org: Org, seat_id: str) -> list[str]:
    """Every declared reference to ``seat_id`` still in ``org``: a complete retirement leaves
    none. Another retired seat's ``retired.redistributed`` naming it is history, not a
    reference: the capability is followed on to whoever the seat's own retirement gave it."""
    return [r.description for r in declared_references(org, seat_id)]
