"""Use cases over the declared org: init, validate, chart, readiness."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from orgplane.errors import OrgFileError
from orgplane.service.models import Result
from orgplane.service.session import Session

if TYPE_CHECKING:
    from orgplane.org.models import Org


class Initialised(Result):
    """An example org written to disk."""

    org_file: str
    example: str
    state_files: list[str]


def init_org(directory: Path, example: str = "agency", *, force: bool = False) -> Initialised:
    """Write the shipped ``example`` into ``directory`` with fresh state files; UsageError if
    org.yaml exists there (unless ``force``) or the example is unknown."""
    from orgplane.org.scaffold import write_example
    from orgplane.watch.sample import fresh_sample_state

    org_file = write_example(directory, example, force=force)
    written = fresh_sample_state(org_file)  # written now, so the example's state starts fresh
    return Initialised(
        org_file=str(org_file), example=example, state_files=[str(p) for p in written]
    )


class ProblemView(Result):
    """One problem of the org file, where it is and its fix."""

    path: str
    line: int
    message: str


class Validation(Result):
    """The outcome of validating the org file: the counts when ok, every problem when not."""

    ok: bool
    problems: list[ProblemView]
    org: str | None = None
    seats: int | None = None
    outputs: int | None = None
    processes: int | None = None
    metrics: int | None = None


def validate(session: Session) -> Validation:
    """Load the org file and report every problem in one pass (never raises OrgFileError),
    then what loading does not ask: notification URLs Apprise cannot use, and escalation
    targets nobody can reach (org/reach.py)."""
    from orgplane.org.reach import validate_problems

    try:
        org = session.org()
    except OrgFileError as exc:
        problems = [ProblemView(path=p.path, line=p.line, message=p.message) for p in exc.problems]
        return Validation(ok=False, problems=problems)
    unreachable = validate_problems(org)
    if unreachable:
        problems = [ProblemView(path=p.path, line=p.line, message=p.message) for p in unreachable]
        return Validation(ok=False, problems=problems)
    return Validation(
        ok=True,
        problems=[],
        org=org.name,
        seats=len(org.seats),
        outputs=len(org.outputs),
        processes=len(org.processes),
        metrics=len(org.metrics),
    )


class ChartOutput(Result):
    """An output on the chart: who reads it and whether its failure response is written down."""

    id: str
    critical: bool
    coverage_seat: str | None
    consumers: dict[str, str]
    has_coverage: bool


class ChartSeat(Result):
    """A seat on the chart with the seats that report to it."""

    id: str
    title: str
    kind: Literal["human", "agent"]
    holder: str | None
    owner: str | None
    status: Literal["active", "retired"]
    capabilities: list[str]
    redistributed: dict[str, str]
    outputs: list[ChartOutput]
    processes: list[str]
    reports: list[ChartSeat]


class ChartSummary(Result):
    seats: int
    active_agents: int
    active_humans: int
    retired: int
    critical_outputs: int
    critical_outputs_covered: int


class Chart(Result):
    """The reporting tree of the org (the ``orgplane chart --json`` shape)."""

    org: str
    seats: list[ChartSeat]
    summary: ChartSummary


def chart(session: Session) -> Chart:
    """The org chart: roots are seats that report to nobody declared."""
    from orgplane.org.chart import chart_data

    return Chart.model_validate(chart_data(session.org()))


Question = Literal["checkpoints", "downstream", "decision", "learning", "seat", "drill"]

QUESTIONS: dict[str, str] = {
    "checkpoints": "where are the checkpoints?",
    "downstream": "what does the downstream seat do?",
    "decision": "who decides, and how fast?",
    "learning": "what enters the system?",
    "seat": "is the seat still needed?",
    "drill": "does the response work when drilled?",
}


class GapView(Result):
    """One question the org's written-down failure response does not answer, and the fix."""

    subject_kind: Literal["process", "output", "seat", "tier", "metric"]
    subject_id: str
    question: Question
    question_text: str
    message: str


class DrillResultView(Result):
    """The latest drill of one scenario on one subject (``orgplane drill``)."""

    scenario: str
    subject_kind: Literal["process", "output", "seat", "metric"]
    subject_id: str
    ran_at: datetime
    passed: bool
    detect_ms: int | None
    chosen: str | None
    """The tier and action the engine chose, ``tier/action``."""
    failures: list[str]


class UndrilledView(Result):
    """A process or output no drill has ever been run on, and the drill to run."""

    subject_kind: Literal["process", "output"]
    subject_id: str
    message: str


class Readiness(Result):
    """The readiness audit: ``ok`` when every process and output has its failure response and
    the latest drill of each passed. ``drills`` is the latest result per scenario and subject;
    ``undrilled`` flags what was never drilled (a warning: it does not change ``ok``)."""

    ok: bool
    gaps: list[GapView]
    drills: list[DrillResultView]
    undrilled: list[UndrilledView]


def readiness(session: Session) -> Readiness:
    """Ask the audit's five questions of every process, output and seat of the org, then
    whether the response was drilled: the latest drill of each scenario and subject (a failed
    one is a gap) and the processes and outputs never drilled."""
    from orgplane.learn.drill_results import latest_steps
    from orgplane.org.readiness import readiness_gaps

    org = session.org()
    with session.store().read() as conn:
        latest = latest_steps(conn)
    drills = [
        DrillResultView(
            scenario=row["scenario"],
            subject_kind=row["subject_kind"],
            subject_id=row["subject_id"],
            ran_at=row["ran_at"],
            passed=row["passed"],
            detect_ms=row["score"].get("detect_ms"),
            chosen=f"{row['score'].get('chosen_tier')}/{row['score'].get('chosen_action')}"
            if row["score"].get("chosen_action")
            else None,
            failures=list(row["score"].get("failures") or []),
        )
        for row in latest
        if _declared(org, row["subject_kind"], row["subject_id"])
    ]
    drill_gaps = [
        GapView(
            subject_kind=d.subject_kind,
            subject_id=d.subject_id,
            question="drill",
            question_text=QUESTIONS["drill"],
            message=f"the latest {d.scenario} drill of {d.subject_kind} {d.subject_id} "
            f"({d.ran_at.isoformat(timespec='minutes')}) failed: "
            f"{d.failures[0] if d.failures else 'see its score'}; fix it, then run "
            f"'{session.command('drill', d.scenario, '--subject', d.subject_id)}'",
        )
        for d in drills
        if not d.passed
    ]
    drilled = {(d.subject_kind, d.subject_id) for d in drills}
    active = {s.id for s in org.active_seats()}
    undrilled = [
        UndrilledView(
            subject_kind="process",
            subject_id=p.id,
            message=f"process {p.id} has never been drilled; run "
            f"'{session.command('drill', 'crash-mid-batch', '--subject', p.id)}' and "
            f"'{session.command('drill', 'unknown-error', '--subject', p.id)}'",
        )
        for p in org.processes.values()
        if p.seat in active and ("process", p.id) not in drilled
    ] + [
        UndrilledView(
            subject_kind="output",
            subject_id=o.id,
            message=f"output {o.id} has never been drilled; run "
            f"'{session.command('drill', 'stale-state', '--subject', o.id)}'",
        )
        for o in org.outputs.values()
        if o.producer in active and ("output", o.id) not in drilled
    ]
    gaps = [
        GapView(
            subject_kind=g.subject_kind,
            subject_id=g.subject_id,
            question=g.question,
            question_text=QUESTIONS[g.question],
            message=g.message,
        )
        for g in readiness_gaps(org)
    ] + drill_gaps
    return Readiness(ok=not gaps, gaps=gaps, drills=drills, undrilled=undrilled)


def _declared(org: Org, kind: str, ident: str) -> bool:
    if kind == "process":
        return ident in org.processes
    if kind == "output":
        return ident in org.outputs
    if kind == "metric":
        return ident in org.metrics
    return ident in org.seats
