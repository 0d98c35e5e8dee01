"""Use case: run a drill (``orgplane drill SCENARIO``) and keep its score in the live store.

Each step runs in a scratch copy of the org and a scratch store (``learn/drill_scratch.py``), so
the live store gains only the ``drills`` rows: no event, decision, run or notification of a
drill is ever in it, and neither the weekly audit nor the scorecard can count one.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orgplane.service.models import Result
from orgplane.service.progress import Progress
from orgplane.service.session import Session

if TYPE_CHECKING:
    from orgplane.learn.drills import SubjectKind


class DrillTarget(Result):
    """A notification target of whoever would be told; ``usable`` when Apprise parses it."""

    url: str
    usable: bool
    problem: str | None


class DrillReader(Result):
    """What a reading seat's coverage protocol gave it while the subject was broken."""

    seat: str
    protocol: str
    given: str
    expected: str
    reason: str


class DrillStep(Result):
    """One scenario run on one subject, scored: steady state before and after, detected (by
    what, in how many ms), the tier and action chosen against the ones the org declares, who
    would be told and whether they can be reached, what a person must do, and the gaps."""

    scenario: str
    subject_kind: str
    subject_id: str
    injected: str
    steady_before: bool
    steady_before_note: str
    detected: bool
    detect_ms: int | None
    detected_by: str
    event_kind: str | None
    expected_tier: str | None
    expected_action: str | None
    expected_rule: str | None
    chosen_tier: str | None
    chosen_action: str | None
    chosen_rule: str | None
    decide_ms: int | None
    decision_matches: bool
    told: str | None
    told_when: str
    reachable: bool | None
    targets: list[DrillTarget]
    readers: list[DrillReader]
    person_must: str
    steady_after: bool
    steady_after_note: str
    gaps: list[str]
    notes: list[str]
    passed: bool
    failures: list[str]


class DrillReport(Result):
    """What ``orgplane drill`` did: every step scored; ``ok`` when all passed. ``gaps`` are the
    responses the org does not declare, each with its fix; ``skipped`` names scenarios with no
    subject in this org."""

    drill_id: str
    ran_at: datetime
    scenarios: list[str]
    ok: bool
    passed: int
    failed: int
    steps: list[DrillStep]
    gaps: list[str]
    skipped: list[str]
    stored: int


def run_drill(
    session: Session,
    scenario: str,
    *,
    subject: str | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
) -> DrillReport:
    """Run ``scenario`` (or ``all``) on each of its subjects in the org (only ``subject`` when
    given), each step in a fresh scratch copy, and store each step's score in the live store.

    UsageError for an unknown scenario (naming them) or a subject the scenario cannot run on;
    PermissionDenied when ``actor`` is an agent seat (a drill is a person's exercise)."""
    from orgplane.errors import UsageError
    from orgplane.learn.drill_results import record_steps
    from orgplane.learn.drill_scratch import Scratch
    from orgplane.learn.drills import (
        choose_subjects,
        not_drillable,
        run_step,
        scenario_names,
        subjects,
    )
    from orgplane.learn.past_readers import past_readers
    from orgplane.service.permissions import require_person
    from orgplane.store.types import utcnow

    names = scenario_names(scenario)  # bad input before the org is even read
    org = session.org()
    require_person(org, actor, "running a drill")
    plan: list[tuple[str, tuple[SubjectKind, str]]] = []
    skipped: list[str] = []
    for name in names:
        if subject is not None and len(names) > 1:
            chosen = [s for s in subjects(org, name) if s[1] == subject]
        else:
            chosen = choose_subjects(org, name, subject)
        if subject is None:
            skipped.extend(not_drillable(org, name))
            if not chosen:
                skipped.append(f"{name}: nothing in this org to run it on")
        plan.extend((name, s) for s in chosen)
    if not plan and subject is not None:
        raise UsageError(f"--subject {subject!r}: no drill scenario runs on it in this org")
    store = session.store()
    with store.read() as conn:
        readers = past_readers(conn)
    ran_at = utcnow()
    if progress is not None:
        progress.begin(f"drill {scenario}", len(plan), 0)
    steps = []
    with tempfile.TemporaryDirectory(prefix="orgplane-drill-template-") as folder:
        template = Scratch.template(Path(folder))
        for name, target in plan:
            steps.append(
                run_step(session.org_path, name, target, past_readers=readers, template=template)
            )
            if progress is not None:
                progress.advance(1)
    drill_id = uuid.uuid4().hex
    with store.write() as conn:
        stored = record_steps(conn, drill_id, steps, ran_at, actor)
    views = [DrillStep.model_validate(s.as_dict()) for s in steps]
    gaps = list(dict.fromkeys(g for s in views for g in s.gaps))
    passed = sum(1 for s in views if s.passed)
    return DrillReport(
        drill_id=drill_id,
        ran_at=ran_at,
        scenarios=names,
        ok=passed == len(views),
        passed=passed,
        failed=len(views) - passed,
        steps=views,
        gaps=gaps,
        skipped=skipped,
        stored=stored,
    )
