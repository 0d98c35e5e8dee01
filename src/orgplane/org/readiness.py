"""Readiness lint: is the failure response written down before the failure?

A valid org file can still leave the minute after a failure to improvisation. This asks, of
every process, output and seat, the five questions a COO should have answered in advance: where
the checkpoints are, what the downstream seat does without this input, who decides and how
fast, what the failure leaves behind, and whether the seat is still needed. Each gap is a
finding with the fix; none is an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from orgplane.org.models import Org, Process

Question = Literal["checkpoints", "downstream", "decision", "learning", "seat"]


@dataclass(frozen=True)
class Gap:
    """One unanswered question about a process, output or seat, and how to answer it."""

    subject_kind: Literal["process", "output", "seat", "tier"]
    subject_id: str
    question: Question
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def readiness_gaps(org: Org) -> list[Gap]:
    """Every gap in the org's written-down failure response, processes first, in file order."""
    gaps: list[Gap] = []
    for process in org.processes.values():
        gaps.extend(_process_gaps(org, process))
    for output in org.outputs.values():
        if org.seats.get(output.producer) is None or org.seats[output.producer].status != "active":
            continue
        consumers = org.consumers_of(output.id)
        if not consumers:
            gaps.append(
                Gap(
                    "output",
                    output.id,
                    "downstream",
                    f"nobody declares {output.id!r} as an input, so nobody has said what "
                    "to do when it is stale; add it under a reader's 'inputs:' with a "
                    "protocol, or retire the output if nobody needs it",
                )
            )
        if output.critical and output.coverage_seat is None:
            gaps.append(
                Gap(
                    "output",
                    output.id,
                    "downstream",
                    f"critical output {output.id!r} names no coverage_seat; name the seat "
                    "that picks up the work when its producer cannot",
                )
            )
    gaps.extend(_reach_gaps(org))
    for seat in org.active_seats():
        if seat.kind == "agent" and not seat.capabilities:
            gaps.append(
                Gap(
                    "seat",
                    seat.id,
                    "seat",
                    f"agent seat {seat.id!r} holds no capability: it may be running on "
                    "empty; give it work or open a retirement hearing",
                )
            )
    return gaps


def _process_gaps(org: Org, process: Process) -> list[Gap]:
    gaps: list[Gap] = []

    def gap(question: Question, message: str) -> None:
        gaps.append(Gap("process", process.id, question, message))

    # A process without a module is fine: a non-Python agent records its own checkpoints.
    if (
        process.module
        and process.module.endswith(".py")
        and not (org.base_dir / process.module).is_file()
    ):
        gap(
            "checkpoints",
            f"process {process.id!r} names module {process.module!r}, which is not "
            "there; fix the path (it is relative to the org file)",
        )
    if process.urgency is None:
        gap(
            "decision",
            f"process {process.id!r} has no urgency tier, so whether to wait or "
            "escalate is decided fresh at every failure; add 'urgency: <tier>'",
        )
    if not process.handled_errors:
        gap(
            "learning",
            f"process {process.id!r} handles no known error, so every failure stops "
            "it; add each error code you have seen to 'handled_errors'",
        )
    running, failing = process.human_when_running, process.human_when_failing
    if not running or not failing:
        gap(
            "decision",
            f"process {process.id!r} does not say what the person does when the agent "
            "runs right and when it fails; fill 'human_when_running' and 'human_when_failing'",
        )
    elif running.strip() == failing.strip():
        gap(
            "decision",
            f"process {process.id!r} gives the person the same job whether the agent "
            "runs or fails: the work was not really delegated; say what changes on failure",
        )
    return gaps


def delegation_gap(process_id: str, person: int, failures: int, threshold: float) -> Gap:
    """The gap of a process the delegation ledger measured as not really delegated: ``person``
    of its ``failures`` (records) ended with a person doing the work, at or over ``threshold``."""
    return Gap(
        "process",
        process_id,
        "decision",
        f"process {process_id!r} is not really delegated: {person} of its {failures} failures in "
        f"the last 28 days ended with a person doing the agent's work (at or over "
        f"{threshold * 100:g}%, its 'not_delegated_at'); handle those errors so the agent "
        "recovers, or say in 'human_when_failing' that a person does the work "
        "('orgplane seats delegation')",
    )


def _reach_gaps(org: Org) -> list[Gap]:
    """Who decides, and can they be told? Escalations nobody can reach, URLs Apprise cannot
    use, seats up the line an escalation would reach without a URL, variables not set here."""
    from orgplane.org import reach  # Apprise is imported only when the org has a URL

    findings = [
        *reach.unreachable(org),
        *reach.url_findings(org),
        *reach.up_the_line(org),
        *reach.missing_variables(org),
    ]
    return [Gap(f.subject_kind, f.subject_id, "decision", f.message) for f in findings]
