"""Drills: a failure injected into a scratch copy of the org, through the real detection and
decision code, and scored against the response the org declares.

Each scenario has subjects (the outputs, metrics, processes or seats it can be run on) and one
step per subject, each in a fresh :class:`~orgplane.learn.drill_scratch.Scratch`:

1. the steady state before: the subject healthy after a baseline check pass;
2. the failure injected (an old file, a broken timestamp, a missed push, a worker killed with
   SIGKILL mid-batch, a stage raising an error nobody planned for, a seat whose runs get nothing);
3. detection by the real code (a check pass, the run sweep, the runner itself), timed;
4. the decision by the real engine, against the tier and action the org declares for that
   subject (derived from the org, never from the example: the subject's ``urgency``, the seat's,
   a tier's ``kinds`` or ``when`` rules);
5. who would be told and whether a notification target is declared and parseable by Apprise
   (nothing is sent), what each reader's coverage protocol gives it, and what a person must do;
6. the steady state after: the subject repaired, its decision closed by the recovery.

A step passes when every part holds; a missing response (no tier applies, nobody reads an output
with a coverage protocol, a critical output with no coverage seat, nobody to tell) is a gap named
with its fix, and the step fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from orgplane.errors import UsageError
from orgplane.org.durations import format_duration
from orgplane.org.models import Org, Output, url_variables
from orgplane.respond.recipients import targets_of, who_is_told
from orgplane.respond.tiers import EventFacts, choose_tier
from orgplane.store.types import utcnow

if TYPE_CHECKING:
    from orgplane.learn.drill_scratch import Scratch

Scenario = Literal[
    "crash-mid-batch",
    "stale-state",
    "corrupt-timestamp",
    "missed-push",
    "seat-on-empty",
    "unknown-error",
]

SCENARIOS: dict[str, str] = {
    "crash-mid-batch": "a worker killed with SIGKILL mid-batch; the sweep finds the run dead",
    "stale-state": "an output's data older than its max_age; a check pass finds it stale",
    "corrupt-timestamp": "an output whose timestamp is not a time; a check pass finds it corrupt",
    "missed-push": "a scheduled push that does not come; a check pass after its grace finds it",
    "seat-on-empty": "a seat whose runs keep getting nothing; the seat reports empty input",
    "unknown-error": "a stage raising an error no handled error names; the runner stops the run",
}
"""Every scenario and what it injects, in the order ``drill all`` runs them."""

SubjectKind = Literal["output", "metric", "process", "seat"]

CRASH_LEASE_SECONDS = 0.5
"""The lease of the killed worker: short, so its death is found within a second."""

CRASH_RECORDS = 20
WAIT_SECONDS = 30.0
"""How long a drill waits for its worker to start, or for the sweep to find it dead."""

EMPTY_RUNS = 3
"""How many empty runs the seat-on-empty drill reports (a seat running on empty repeats)."""


@dataclass
class Target:
    """One notification target of whoever would be told: usable when Apprise can parse it."""

    url: str
    usable: bool
    problem: str | None = None


@dataclass
class Reader:
    """What a reading seat's coverage protocol gives it while the subject is broken."""

    seat: str
    protocol: str
    given: str
    expected: str
    """What the seat's declared protocol says it gets (``given`` must equal it)."""
    reason: str


@dataclass
class Step:
    """One scenario run on one subject, scored."""

    scenario: str
    subject_kind: SubjectKind
    subject_id: str
    injected: str = ""
    steady_before: bool = False
    steady_before_note: str = ""
    detected: bool = False
    detect_ms: int | None = None
    detected_by: str = ""
    event_kind: str | None = None
    expected_tier: str | None = None
    expected_action: str | None = None
    expected_rule: str | None = None
    chosen_tier: str | None = None
    chosen_action: str | None = None
    chosen_rule: str | None = None
    decide_ms: int | None = None
    decision_matches: bool = False
    told: str | None = None
    told_when: str = "nobody is told"
    reachable: bool | None = None
    targets: list[Target] = field(default_factory=list)
    readers: list[Reader] = field(default_factory=list)
    person_must: str = ""
    steady_after: bool = False
    steady_after_note: str = ""
    gaps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: bool = False
    failures: list[str] = field(default_factory=list)
    """Why the step failed, one line each (empty when it passed)."""
    event: dict[str, Any] | None = field(default=None, repr=False)
    """The failure event the drill caused in its scratch store (not part of the score)."""

    def settle(self) -> Step:
        """Set ``passed``: steady before and after, detected, decided as declared, whoever
        must be told reachable, and no gap."""
        checks = [
            (
                self.steady_before,
                f"the steady state did not hold before: {self.steady_before_note}",
            ),
            (self.detected, f"not detected ({self.detected_by or 'nothing looked'})"),
            (
                self.decision_matches or self.expected_tier is None,
                f"decided {self.chosen_tier}/{self.chosen_action}, the org declares "
                f"{self.expected_tier}/{self.expected_action}",
            ),
            (self.reachable is not False, f"{self.told} cannot be reached: no usable target"),
            (self.steady_after, f"the steady state did not come back: {self.steady_after_note}"),
        ]
        self.failures = [*self.gaps, *(why for ok, why in checks if not ok)]
        self.passed = not self.failures
        return self

    def as_dict(self) -> dict[str, Any]:
        """The score as plain data (the scratch event left out: it lived in a scratch store)."""
        data = asdict(self)
        data.pop("event")
        return data


Advance = Callable[[int], None]


def scenario_names(text: str) -> list[str]:
    """The scenarios ``text`` names (``all`` is every one); UsageError listing them otherwise."""
    if text == "all":
        return list(SCENARIOS)
    if text not in SCENARIOS:
        raise UsageError(
            f"unknown drill scenario {text!r}; choose one of: {', '.join(SCENARIOS)} (or all)"
        )
    return [text]


def subjects(org: Org, scenario: str) -> list[tuple[SubjectKind, str]]:
    """The subjects ``scenario`` can be run on in ``org``, in file order."""
    active = {s.id for s in org.active_seats()}
    outputs = [o for o in org.outputs.values() if o.producer in active and _in_folder(o)]
    if scenario == "stale-state":
        return [("output", o.id) for o in outputs]
    if scenario == "corrupt-timestamp":
        return [("output", o.id) for o in outputs if o.timestamp]
    if scenario == "missed-push":
        found: list[tuple[SubjectKind, str]] = [("output", o.id) for o in outputs if o.schedule]
        return found + [
            ("metric", m.id) for m in org.metrics.values() if m.schedule and m.owner in active
        ]
    if scenario in ("crash-mid-batch", "unknown-error"):
        return [("process", p.id) for p in org.processes.values() if p.seat in active]
    if scenario == "seat-on-empty":
        with_process = {p.seat for p in org.processes.values()}
        return [
            ("seat", s.id) for s in org.active_seats() if s.kind == "agent" and s.id in with_process
        ]
    raise UsageError(f"unknown drill scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")


def not_drillable(org: Org, scenario: str) -> list[str]:
    """Why items the scenario would cover are left out (a drill writes only inside its copy
    of the org's folder), one line each."""
    if scenario not in ("stale-state", "corrupt-timestamp", "missed-push"):
        return []
    active = {s.id for s in org.active_seats()}
    return [
        f"{scenario}: output {o.id} is published or lives outside the org's folder "
        f"({o.location or 'no location'}); a drill writes only inside its copy, so it is not drilled"
        for o in org.outputs.values()
        if o.producer in active
        and not _in_folder(o)
        and (scenario != "missed-push" or o.schedule)
        and (scenario != "corrupt-timestamp" or o.timestamp)
    ]


def _in_folder(output: Output) -> bool:
    # A drill writes only inside its copy of the org's folder: a file elsewhere (an absolute
    # path, a glob) is never written, so those outputs are not drilled by file.
    import glob

    location = output.location
    return (
        bool(location) and not glob.has_magic(location or "") and not str(location).startswith("/")
    )


def choose_subjects(org: Org, scenario: str, subject: str | None) -> list[tuple[SubjectKind, str]]:
    """The scenario's subjects, or only ``subject``; UsageError when it is not one of them."""
    found = subjects(org, scenario)
    if subject is None:
        return found
    chosen = [s for s in found if s[1] == subject]
    if not chosen:
        names = ", ".join(s[1] for s in found) or "none in this org"
        raise UsageError(f"--subject {subject!r}: {scenario} runs on {names}; give one of them")
    return chosen


def run_step(
    live_org_path: Path,
    scenario: str,
    subject: tuple[SubjectKind, str],
    *,
    past_readers: Collection[tuple[str, str]] = (),
    template: Path | None = None,
) -> Step:
    """Run ``scenario`` on ``subject`` in a fresh scratch copy of the org and score it.

    ``past_readers`` are (seat, output) pairs the live store saw reading an output through the
    gate: a reader that no longer declares a coverage protocol for it is a gap. ``template``
    is an empty migrated store to start the scratch store from (:meth:`Scratch.template`)."""
    from orgplane.learn.drill_scratch import Scratch

    step = Step(scenario, subject[0], subject[1])
    with Scratch(live_org_path, template) as scratch:
        runner = _RUNNERS[scenario]
        runner(scratch, step)
        if subject[0] == "output":
            _reader_gaps(scratch.org, subject[1], past_readers, step)
    return step.settle()


# ------------------------------------------------------------------------------------------
# Output scenarios: stale-state, corrupt-timestamp, missed-push (outputs and metrics)
# ------------------------------------------------------------------------------------------


def _stale(scratch: Scratch, step: Step) -> None:
    output = scratch.org.outputs[step.subject_id]
    now = utcnow()
    if not _steady(scratch, step, now, ("output", output.id)):
        return
    old = now - output.max_age - timedelta(minutes=5)
    step.injected = (
        f"{output.location} rewritten with data {format_duration(output.max_age + timedelta(minutes=5))} "
        f"old (max_age {format_duration(output.max_age)})"
    )
    started = time.perf_counter()
    scratch.write_output(output, old)
    report = scratch.check(now)
    _detected_by_check(scratch, step, report, ("output", output.id), started, "stale")
    _judge(scratch, step, now)
    _repair_output(scratch, step, output, now, now)


def _corrupt(scratch: Scratch, step: Step) -> None:
    output = scratch.org.outputs[step.subject_id]
    now = utcnow()
    if not _steady(scratch, step, now, ("output", output.id)):
        return
    step.injected = f"{output.location} rewritten with {output.timestamp}: 'not-a-time'"
    started = time.perf_counter()
    scratch.write_output(output, now, stamp="not-a-time")
    report = scratch.check(now)
    _detected_by_check(scratch, step, report, ("output", output.id), started, "corrupt")
    _judge(scratch, step, now)
    _repair_output(scratch, step, output, now, now)


def _missed(scratch: Scratch, step: Step) -> None:
    from croniter import croniter

    from orgplane.watch.metrics import push_metric

    org: Org = scratch.org
    now = utcnow()
    item = org.outputs.get(step.subject_id) if step.subject_kind == "output" else None
    metric = org.metrics.get(step.subject_id) if step.subject_kind == "metric" else None
    schedule = (item.schedule if item else metric.schedule if metric else None) or ""
    grace = item.grace if item else metric.grace if metric else timedelta(0)
    finding_kind = "schedule" if item else "metric"
    if not _steady(scratch, step, now, (finding_kind, step.subject_id)):
        return
    zone = ZoneInfo(org.timezone)
    slot = croniter(schedule, now.astimezone(zone)).get_next(datetime)
    later = slot.astimezone(now.tzinfo) + grace + timedelta(seconds=1)
    step.injected = (
        f"no push at the {slot.isoformat(timespec='minutes')} slot of '{schedule}'; "
        f"a check pass at the end of its grace ({format_duration(grace)})"
    )
    started = time.perf_counter()
    report = scratch.check(later)
    _detected_by_check(
        scratch, step, report, (finding_kind, step.subject_id), started, "missed_run"
    )
    step.notes.append(
        "the clock of the check pass was moved past the slot and its grace; the daemon finds "
        "a missed push at its first pass after the grace"
    )
    _judge(scratch, step, later)
    if item is not None:
        _repair_output(scratch, step, item, later, later, finding_kind="schedule")
    elif metric is not None:
        push_metric(scratch.store, org, metric.id, metric.target or 0.0, later, later)
        _after_check(scratch, step, later, (finding_kind, metric.id), f"{metric.id} pushed late")


def _steady(scratch: Scratch, step: Step, now: datetime, key: tuple[str, str]) -> bool:
    report = scratch.baseline(now)
    finding = _finding(report, key)
    step.steady_before = finding is not None and finding.ok
    step.steady_before_note = (
        f"{key[0]} {key[1]} {finding.status}" if finding else f"{key[0]} {key[1]} not watched"
    )
    if not step.steady_before:
        step.gaps.append(
            f"the steady state does not hold before the drill: {step.steady_before_note}"
        )
    return step.steady_before


def _finding(report: Any, key: tuple[str, str]) -> Any:
    return next((f for f in report.findings if (f.subject_kind, f.subject_id) == key), None)


def _detected_by_check(
    scratch: Scratch, step: Step, report: Any, key: tuple[str, str], started: float, kind: str
) -> None:
    elapsed = _ms_since(started)
    finding = _finding(report, key)
    moved = [
        t
        for t in report.transitions
        if (t["subject_kind"], t["subject_id"]) == key and t.get("event_id")
    ]
    step.detected_by = "a check pass (watch/check.py)"
    if not moved:
        status = finding.status if finding else "not watched"
        step.notes.append(f"the check pass left {key[0]} {key[1]} {status}: no event")
        return
    event = scratch.event(int(moved[-1]["event_id"]))
    step.detected = event["kind"] == kind
    step.detect_ms = elapsed
    step.event_kind = event["kind"]
    if not step.detected:
        step.notes.append(f"the check pass recorded {event['kind']}, not {kind}")
    step.event = event


def _repair_output(
    scratch: Scratch,
    step: Step,
    output: Output,
    data_at: datetime,
    now: datetime,
    *,
    finding_kind: str = "output",
) -> None:
    scratch.write_output(output, data_at)
    _after_check(scratch, step, now, (finding_kind, output.id), f"{output.location} rewritten good")


def _after_check(
    scratch: Scratch, step: Step, now: datetime, key: tuple[str, str], what: str
) -> None:
    report = scratch.check(now)
    scratch.decide()
    finding = _finding(report, key)
    healthy = finding is not None and finding.ok
    closed = _decision_closed(scratch, step)
    step.steady_after = healthy and closed
    state = finding.status if finding else "not watched"
    step.steady_after_note = (
        f"{what}: {key[0]} {key[1]} {state}; its decision "
        f"{'closed by the recovery' if closed else 'still open'}"
    )


def _decision_closed(scratch: Scratch, step: Step) -> bool:
    event = step.event
    if event is None:
        return False
    decision = scratch.decision_of(int(event["id"]))
    if decision is None:
        return False
    with scratch.store.read() as conn:
        from orgplane.respond.decisions import get_decision

        return bool(get_decision(conn, int(decision["id"]))["status"] == "closed")


# ------------------------------------------------------------------------------------------
# Run scenarios: crash-mid-batch, unknown-error; and seat-on-empty
# ------------------------------------------------------------------------------------------


def _process_steady(scratch: Scratch, step: Step, now: datetime) -> bool:
    scratch.baseline(now)
    with scratch.store.read() as conn:
        from orgplane.store.tables import decisions

        open_count = conn.execute(
            select(func.count())
            .select_from(decisions)
            .where(decisions.c.status == "open", decisions.c.subject_kind == "run")
        ).scalar_one()
    step.steady_before = open_count == 0
    step.steady_before_note = f"no run of {step.subject_id} open or failing in the scratch store"
    return step.steady_before


def _records(count: int) -> list[dict[str, Any]]:
    return [{"id": f"drill-{n}"} for n in range(1, count + 1)]


def _crash(scratch: Scratch, step: Step) -> None:
    from orgplane.learn.drill_stages import effects, write_control
    from orgplane.runs.process import run_id_for
    from orgplane.runs.stalls import record_stalls
    from orgplane.store.tables import run_checkpoints

    process_id = step.subject_id
    if not _process_steady(scratch, step, utcnow()):
        return
    _agent_note(scratch.org, process_id, step)
    batch_file = scratch.folder / "crash-batch.json"
    batch_file.write_text(json.dumps(_records(CRASH_RECORDS)))
    write_control(scratch.folder, {"delay": 0.05})
    batch = "drill-crash"
    run_id = run_id_for(process_id, batch)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orgplane.learn.drill_worker",
            str(scratch.path),
            scratch.store.url,
            process_id,
            str(scratch.folder),
            str(batch_file),
            batch,
            str(CRASH_LEASE_SECONDS),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + WAIT_SECONDS
    checkpoints = 0
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            with scratch.store.read() as conn:
                checkpoints = conn.execute(
                    select(func.count())
                    .select_from(run_checkpoints)
                    .where(run_checkpoints.c.run_id == run_id)
                ).scalar_one()
            if checkpoints >= 2:
                break
            time.sleep(0.05)
    finally:
        alive = worker.poll() is None
        if alive:
            os.kill(worker.pid, signal.SIGKILL)
        _, stderr = worker.communicate()
    killed = time.perf_counter()
    if not alive or checkpoints < 2:
        tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        step.gaps.append(
            f"the drill's worker for {process_id} ended before it could be killed mid-batch"
            + (f": {tail[0]}" if tail else "")
        )
        return
    step.injected = (
        f"a worker of run {run_id} ({CRASH_RECORDS} records) killed with SIGKILL after "
        f"{checkpoints} checkpoints"
    )
    found: list[int] = []
    while not found and time.perf_counter() - killed < WAIT_SECONDS:
        with scratch.store.write() as conn:
            found = record_stalls(conn, utcnow())
        if not found:
            time.sleep(0.05)
    step.detected_by = (
        f"the run sweep (runs/stalls.py) once the worker's lease ({CRASH_LEASE_SECONDS:g}s in "
        "the drill) ran out; the daemon sweeps every pass, so in production it takes the "
        "run's lease (--lease, 60 s by default) plus one daemon interval"
    )
    if not found:
        return
    step.detected = True
    step.detect_ms = _ms_since(killed)
    step.event = scratch.event(found[0])
    step.event_kind = "crash"
    _judge(scratch, step, utcnow())
    write_control(scratch.folder, {})
    _resume_after(scratch, step, run_id)
    keys = effects(scratch.folder)
    if len(keys) != len(set(keys)):
        step.steady_after = False
        step.gaps.append("an effectful stage ran twice for one record after the resume")
    else:
        step.notes.append(f"{len(keys)} effect(s), none twice, after the crash and the resume")


def _unknown(scratch: Scratch, step: Step) -> None:
    from orgplane.learn.drill_stages import UNPLANNED_CODE, read_control, write_control

    process_id = step.subject_id
    declared = scratch.org.processes[process_id]
    if not _process_steady(scratch, step, utcnow()):
        return
    _agent_note(scratch.org, process_id, step)
    first = declared.stages[0].name
    write_control(
        scratch.folder, {"fault": {"record": "drill-3", "stage": first, "code": UNPLANNED_CODE}}
    )
    process = _process(scratch, process_id)
    step.injected = f"stage {first} raised DrillUnplannedError [{UNPLANNED_CODE}] at record drill-3"
    status = process.run(_records(5), batch="drill-unknown")
    step.detected_by = "the runner itself (runs/worker.py), in the stage's transaction"
    raised = (read_control(scratch.folder).get("fault") or {}).get("raised_at")
    found = scratch.events_of("unhandled_error", run_id=status.run_id)
    if not found:
        handled = scratch.events_of("handled_error", run_id=status.run_id)
        if handled:
            step.notes.append(
                f"a handled error of {process_id} caught the drill's error: nothing is unknown "
                "to this process"
            )
        return
    event = found[0]
    step.detected = True
    step.detect_ms = (
        max(0, round((event["recorded_at"].timestamp() - float(raised)) * 1000)) if raised else None
    )
    step.event = event
    step.event_kind = "unhandled_error"
    _judge(scratch, step, utcnow())
    write_control(scratch.folder, {})
    _resume_after(scratch, step, status.run_id)


def _agent_note(org: Org, process_id: str, step: Step) -> None:
    if not org.processes[process_id].module:
        step.notes.append(
            f"{process_id} has no module: its agent records its own checkpoints; the drill ran "
            "stand-in stages through the runner, so it shows the response to this failure, not "
            "how the agent itself would notice it"
        )


def _process(scratch: Scratch, process_id: str) -> Any:
    from orgplane.learn.drill_stages import drill_module
    from orgplane.runs.process import load_process

    module = drill_module(scratch.org, process_id, scratch.folder)
    return load_process(
        scratch.org,
        process_id,
        scratch.store,
        module=module,
        lease=timedelta(seconds=CRASH_LEASE_SECONDS * 4),
    )


def _resume_after(scratch: Scratch, step: Step, run_id: str) -> None:
    from orgplane.respond.resume import record_recoveries

    status = _process(scratch, step.subject_id).resume(run_id)
    with scratch.store.write() as conn:
        record_recoveries(conn, utcnow())
    scratch.decide()
    closed = _decision_closed(scratch, step)
    step.steady_after = status.state == "finished" and closed
    step.steady_after_note = (
        f"run {run_id} resumed from its checkpoint: {status.state}; its decision "
        f"{'closed by the recovery' if closed else 'still open'}"
    )


def _empty(scratch: Scratch, step: Step) -> None:
    from orgplane.respond.events import FailureEvent, record_event

    seat_id = step.subject_id
    org: Org = scratch.org
    now = utcnow()
    scratch.baseline(now)
    step.steady_before = True
    step.steady_before_note = f"seat {seat_id} has no open decision in the scratch store"
    process = next((p for p in org.processes.values() if p.seat == seat_id), None)
    step.injected = f"{EMPTY_RUNS} runs of seat {seat_id} in a row got no records"
    started = time.perf_counter()
    ids: list[int] = []
    with scratch.store.write() as conn:
        for n in range(1, EMPTY_RUNS + 1):
            found = record_event(
                conn,
                FailureEvent(
                    kind="empty_input",
                    occurred_at=utcnow(),
                    subject_kind="seat",
                    subject_id=seat_id,
                    seat_id=seat_id,
                    visible=True,
                    message=f"drill: run {n} of {EMPTY_RUNS} of seat {seat_id} got no records",
                    details={"reported_by": seat_id, "empty_runs": n},
                ),
            )
            if found is not None:
                ids.append(found)
    step.detected = bool(ids)
    step.detect_ms = _ms_since(started)
    step.detected_by = (
        "the seat's own report of empty input (as 'orgplane report' or the API records it); "
        "orgplane does not yet tell a seat on empty from its run history by itself"
    )
    step.notes.append(
        "seat-on-empty is detected only when the seat reports it: no detection of runs that end "
        "empty is in watch/ on this branch"
    )
    if not ids:
        return
    step.event_kind = "empty_input"
    step.event = scratch.event(ids[0])
    _judge(scratch, step, now)
    if process is None:
        step.steady_after = True
        step.steady_after_note = f"seat {seat_id} has no process to give work to"
        return
    status = _process(scratch, process.id).run(_records(2), batch="drill-work")
    step.steady_after = status.state == "finished"
    step.steady_after_note = (
        f"a batch with records given to {process.id}: {status.state}; a seat on empty is a "
        "candidate for a retirement hearing, not an incident"
    )


# ------------------------------------------------------------------------------------------
# Judging a decision against the declared response
# ------------------------------------------------------------------------------------------


def _judge(scratch: Scratch, step: Step, now: datetime) -> None:
    """The decision the engine made for the step's event, against the org's declaration; who
    would be told and whether they can be reached; what the readers get; what a person does."""
    from orgplane.org.reach import apprise_problem, redact

    org: Org = scratch.org
    assert step.event is not None
    event: dict[str, Any] = step.event
    process_id = step.subject_id if step.subject_kind == "process" else None
    facts = EventFacts(
        kind=event["kind"],
        subject_kind=event["subject_kind"],
        subject_id=event["subject_id"],
        seat_id=event["seat_id"],
        process_id=process_id,
        context=event["details"] or {},
    )
    expected = choose_tier(org, facts)
    tier = org.urgency.get(expected.tier) if expected else None
    if expected is None or tier is None:
        subject = f"{event['subject_kind']} {event['subject_id']}"
        if step.subject_kind == "process":
            subject = f"process {step.subject_id}"
        step.gaps.append(
            f"no urgency tier applies to a {event['kind']} of {subject}: add 'urgency: <tier>' "
            f"to it, or 'kinds: [{event['kind']}]' to a tier"
        )
    else:
        step.expected_tier = expected.tier
        step.expected_action = tier.action
        step.expected_rule = scratch.live_rule(expected.rule)
    scratch.decide()
    decision = scratch.decision_of(int(event["id"]))
    if decision is None:
        step.gaps.append("the decision engine made no decision for the drill's event")
        return
    step.chosen_tier = decision["tier"]
    step.chosen_action = decision["action"]
    step.chosen_rule = scratch.live_rule(decision["rule"])
    step.decide_ms = int(decision["latency_ms"])
    step.decision_matches = (
        expected is not None
        and step.chosen_tier == step.expected_tier
        and step.chosen_action == step.expected_action
    )
    seat_id = decision["seat_id"]
    action = decision["action"]
    told = who_is_told(org, tier.notify if tier else None, seat_id)
    if action == "skip_and_flag":
        step.told, step.told_when = None, "nobody is told: each reader applies its protocol"
    else:
        step.told = told
        step.told_when = {
            "escalate": "now",
            "wait": "when the deadline passes without a recovery",
            "resume": f"when {tier.attempts if tier else 3} restarts from the checkpoint fail",
        }.get(action, "now")
        if told is None:
            step.gaps.append(
                f"a {action} of seat {seat_id} tells nobody: give the seat an owner or the tier "
                "'notify: <seat>'"
            )
        else:
            for url in targets_of(org, told, expected.tier if expected else None):
                problem = apprise_problem(url)
                step.targets.append(Target(redact(url), problem is None, problem))
                unset = [v for v in url_variables(url) if v not in os.environ]
                if unset:
                    step.notes.append(
                        f"a target of {told} reads ${{{unset[0]}}}, which is not set in this "
                        "environment; a send from here would fail"
                    )
            step.reachable = any(t.usable for t in step.targets)
            if not step.targets:
                step.gaps.append(
                    f"{told} would be told but has no notify_urls, nor has the tier: add "
                    f"'notify_urls: [<Apprise URL>]' to seat {told}"
                )
    if step.subject_kind == "output":
        _readers(scratch, step, now)
    step.person_must = _person_must(org, step, tier, told)


def _readers(scratch: Scratch, step: Step, now: datetime) -> None:
    """Each reader's answer from the real gate, while the output is broken."""
    from orgplane.respond.gate import InputState, apply_protocol
    from orgplane.watch.check import read_output
    from orgplane.watch.inspect import classify_output
    from orgplane.watch.lastgood import load_last_good
    from orgplane.watch.state import load_org_snapshot

    org: Org = scratch.org
    output = org.outputs[step.subject_id]
    with scratch.store.read() as conn:
        snap = load_org_snapshot(conn, org, now)
        last_good = load_last_good(conn, [output.id])
    reading = read_output(str(org.base_dir), output, snap.published.get(output.id), keep_raw=True)
    finding = classify_output(output, reading, now, snap.priors.get(("output", output.id)))
    state = InputState(
        output.id,
        output.producer,
        finding.status,
        finding.reason,
        finding.data_at,
        finding.last_good_at,
        reading.raw if finding.status == "fresh" else None,
    )
    for seat_id, declared in org.consumers_of(output.id).items():
        answer = apply_protocol(seat_id, state, declared, last_good.get(output.id), now)
        expected = _expected_given(state.status, declared.protocol, output.id in last_good)
        step.readers.append(Reader(seat_id, answer.protocol, answer.given, expected, answer.reason))
        if answer.given != expected:
            step.gaps.append(
                f"the gate gave {seat_id} {answer.given} for {output.id}; its protocol "
                f"{declared.protocol} says {expected}"
            )


def _expected_given(status: str, protocol: str, kept: bool) -> str:
    """What a reader gets by its declared protocol: fresh content as current; otherwise the
    last good content (``use_last_good``, when some was kept), nothing (``skip_and_flag``) or a
    refusal (``block``, ``escalate``)."""
    if status == "fresh":
        return "content"
    if protocol == "use_last_good":
        return "last_good" if kept else "nothing"
    return "nothing" if protocol == "skip_and_flag" else "refused"


def _reader_gaps(
    org: Org, output_id: str, past_readers: Collection[tuple[str, str]], step: Step
) -> None:
    output = org.outputs[output_id]
    readers = org.consumers_of(output_id)
    for seat_id, read in sorted(past_readers):
        if read == output_id and seat_id not in readers and seat_id in org.seats:
            step.gaps.append(
                f"{seat_id} reads {output_id} with no coverage protocol: add inputs: "
                f"{{{output_id}: skip_and_flag}} to seat {seat_id}"
            )
    if not readers and not any(r == output_id for _, r in past_readers):
        step.gaps.append(
            f"nobody reads {output_id} with a coverage protocol, so nobody has said what to do "
            f"when it is {step.event_kind or 'broken'}: add inputs: {{{output_id}: skip_and_flag}} "
            "to the seat that reads it"
        )
    if output.critical and output.coverage_seat is None:
        step.gaps.append(
            f"critical output {output_id} names no coverage_seat: add 'coverage_seat: <seat>' "
            "to it (who picks up the work when its producer cannot)"
        )


def _person_must(org: Org, step: Step, tier: Any, told: str | None) -> str:
    action = step.chosen_action
    deadline = format_duration(tier.deadline) if tier else "0s"
    if step.expected_tier is None:
        return (
            "improvise: the org declares no response, so the engine escalated to "
            f"{told or 'nobody'} at once; write the response down"
        )
    if action == "escalate":
        text = f"{told} acts within {deadline}"
    elif action == "wait":
        text = f"nobody now (the next scheduled run corrects it); {told} is told after {deadline}"
    elif action == "resume":
        attempts = tier.attempts if tier else 3
        text = (
            f"nobody: the daemon restarts the run from its checkpoint (up to {attempts} times); "
            f"{told} is told if that fails"
        )
    elif step.subject_kind != "output":
        text = f"nobody is told: it is flagged ({step.chosen_tier}, {deadline})"
        if step.subject_kind == "seat":
            text += "; a seat on empty is a candidate for a retirement hearing"
    else:
        readers = ", ".join(f"{r.seat} {r.protocol}" for r in step.readers)
        text = "nobody is told; " + (
            f"readers apply their protocols ({readers})"
            if readers
            else "no reader declares a protocol"
        )
        output = org.outputs.get(step.subject_id) if step.subject_kind == "output" else None
        if output is not None and output.critical and output.coverage_seat:
            text += f"; {output.coverage_seat} picks up the critical work"
    process = org.processes.get(step.subject_id) if step.subject_kind == "process" else None
    if process is not None and process.human_when_failing:
        text += f". The org says: {process.human_when_failing.strip()}"
    return text


def _ms_since(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


_RUNNERS: dict[str, Callable[[Scratch, Step], None]] = {
    "crash-mid-batch": _crash,
    "stale-state": _stale,
    "corrupt-timestamp": _corrupt,
    "missed-push": _missed,
    "seat-on-empty": _empty,
    "unknown-error": _unknown,
}
