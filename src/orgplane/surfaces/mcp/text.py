"""The compact text form of each tool's result: what a model reads first, a few lines that say
what matters (the full result is the structured content beside it). Text from the org file or
from outside is shown as it is; nothing here decides anything."""

from __future__ import annotations

from orgplane.service.briefing import Briefing
from orgplane.service.decisions import DecisionList, DecisionView
from orgplane.service.failures import FailureReported
from orgplane.service.gate import GateResult
from orgplane.service.handoffs import QueueView, ResolvedView
from orgplane.service.health import SeatDetail
from orgplane.service.incidents import IncidentDetail, IncidentList, IncidentView
from orgplane.service.org import Chart, ChartSeat
from orgplane.service.outputs import OutputStatuses
from orgplane.service.run_work import RunWork
from orgplane.service.runs import RunList, RunView
from orgplane.service.seats import SeatList
from orgplane.service.watch import MetricPushed, Published, Scorecard


def chart(result: Chart) -> str:
    """The tree as ``orgplane chart`` draws it, then which seats have coverage protocols."""
    from orgplane.org.chart import chart_lines

    seats: list[ChartSeat] = []
    pending = list(result.seats)
    while pending:  # a work list, not recursion: charts may be deep
        seat = pending.pop(0)
        seats.append(seat)
        pending.extend(seat.reports)
    covered = [s.id for s in seats if s.outputs and all(o.has_coverage for o in s.outputs)]
    lacking = [s.id for s in seats if any(not o.has_coverage for o in s.outputs)]
    readers = sorted({c for s in seats for o in s.outputs for c in o.consumers})
    s = result.summary
    lines = [
        *chart_lines(result.model_dump()),
        "",
        f"{s.seats} seats ({s.active_agents} agents, {s.active_humans} people, {s.retired} "
        f"retired); critical outputs covered: {s.critical_outputs_covered}/{s.critical_outputs}",
        f"seats whose outputs all have coverage protocols: {_ids(covered)}",
        f"seats with an output lacking a coverage protocol: {_ids(lacking)}",
        f"seats declaring a protocol for an input they read: {_ids(readers)}",
    ]
    return "\n".join(lines)


def seat_list(result: SeatList) -> str:
    lines = [f"{len(result.seats)} seats of {result.org}"]
    for s in result.seats:
        who = f", {s.holder}" if s.holder else ""
        above = f", reports to {s.reports_to}" if s.reports_to else ""
        owner = f", owner {s.owner}" if s.owner else ""
        retired = " RETIRED" if s.status == "retired" else ""
        lines.append(f"- {s.id}: {s.title} ({s.kind}{who}{above}{owner}){retired}")
    return "\n".join(lines)


def seat_detail(result: SeatDetail) -> str:
    s = result
    lines = [f"{s.id}: {s.title} ({s.kind}, {s.status}), holder {s.holder or 'nobody'}"]
    health = f"health: {s.health.health}"
    lines.append(health + (f" ({'; '.join(s.health.reasons)})" if s.health.reasons else ""))
    lines.append(f"reports to: {s.reports_to or 'nobody'}; reports: {_ids(s.reports)}")
    if s.owner:
        lines.append(f"owner: {s.owner}")
    if s.capabilities:
        lines.append(f"capabilities: {', '.join(s.capabilities)}")
    for o in s.outputs:
        readers = ", ".join(f"{c}: {p}" for c, p in o.consumers.items()) or "nobody reads it"
        mark = "" if o.has_coverage else " NO coverage protocol"
        state = f" [{o.finding.status}]" if o.finding else ""
        lines.append(f"output {o.id}{' (critical)' if o.critical else ''}{state}{mark}: {readers}")
    for i in s.inputs:
        to = f" -> {i.escalate_to}" if i.escalate_to else ""
        lines.append(f"input {i.output} from {i.producer or '?'}: {i.protocol}{to}")
    for p in s.processes:
        latest = f"; latest run {p.runs[0].run_id} {p.runs[0].state}" if p.runs else ""
        lines.append(f"process {p.id}: {' > '.join(p.stages)}{latest}")
    lines.extend(f"SOP: {sop}" for sop in s.sops)
    lines.append(f"open decisions: {len(s.decisions)}; recent events: {len(s.events)}")
    lines.extend(f"  {_decision(d)}" for d in s.decisions)
    return "\n".join(lines)


def output_statuses(result: OutputStatuses) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
    if not result.outputs:
        return f"every output is fresh ({counts})"
    lines = [f"{len(result.outputs)} outputs listed ({counts})"]
    for o in result.outputs:
        readers = ", ".join(f"{c}: {p}" for c, p in o.consumers.items()) or "nobody reads it"
        lines.append(f"- {o.finding.message} [readers: {readers}]")
    return "\n".join(lines)


def run_list(result: RunList) -> str:
    if not result.runs:
        return "no runs"
    return "\n".join(
        f"- {r.run_id}: {r.state}, {r.records_total} records "
        + ", ".join(f"{n} {k}" for k, n in r.records.items())
        for r in result.runs
    )


def run_view(result: RunView) -> str:
    lines = [f"run {result.run_id}: {result.state}, {result.records_total} records"]
    for name, s in result.stages.items():
        lines.append(
            f"  {name}: {s.done} done, {s.failed} failed, {s.skipped} skipped, "
            f"{s.in_doubt} in doubt, {s.held} held, {s.handed_off} handed off, "
            f"{s.running} running, {s.pending} pending"
        )
    if result.stopped is not None:
        st = result.stopped
        lines.append(
            f"stopped at {st.record} / {st.stage}: {st.code or st.error_type} {st.message}"
        )
    for w in [*result.in_doubt, *result.held]:
        lines.append(f"waits for a person: {w.record} / {w.stage} ({w.state})")
    if result.note:
        lines.append(result.note)
    return "\n".join(lines)


def run_work(result: RunWork) -> str:
    lines = [
        f"run {result.run_id} ({result.state}): {result.settled} settled, {result.left} left; "
        f"stages {' > '.join(result.stages)}"
    ]
    for r in result.records:
        nxt = f"next {r.next_stage}" if r.next_stage else f"waits for a person ({r.waiting})"
        lines.append(f"- {r.record}: {nxt}")
    if result.left > len(result.records):
        lines.append(f"... {result.left - len(result.records)} more (raise limit)")
    return "\n".join(lines)


def scorecard(result: Scorecard) -> str:
    lines = [f"scorecard at {result.at.isoformat()}: {'ok' if result.ok else 'STALE metrics'}"]
    lines.extend(f"- {m.metric}: {m.summary}" for m in result.metrics)
    return "\n".join(lines)


def decision_list(result: DecisionList) -> str:
    if not result.decisions:
        return "no decisions"
    return "\n".join(f"- {_decision(d)}" for d in result.decisions)


def decision(result: DecisionView) -> str:
    return _decision(result) + f"\nrule: {result.rule}; deadline {result.deadline.isoformat()}"


def incident_list(result: IncidentList) -> str:
    if not result.incidents:
        return "no incidents"
    return "\n".join(f"- {_incident(i)}" for i in result.incidents)


def incident_detail(result: IncidentDetail) -> str:
    lines = [_incident(result.incident)]
    for step in result.steps:
        who = f" by {step.actor}" if step.actor else ""
        lines.append(f"- {step.at.isoformat()} {step.step}{who}")
    lines.extend(
        f"follow-up {f.id} ({f.owner}, due {f.due.isoformat()}"
        + (", done" if f.done_at else ", OVERDUE" if f.overdue else "")
        + f"): {f.text}"
        for f in result.follow_ups
    )
    return "\n".join(lines)


def _incident(i: IncidentView) -> str:
    learned = f"; learning: {i.learning}" if i.learning else ""
    held = "; the learning did not hold" if i.learning_held is False else ""
    return (
        f"incident {i.id} ({i.status}): {i.kind} of {i.subject_kind} {i.subject_id}, seat "
        f"{i.seat_id or 'none'}, {i.events} event(s){learned}{held}"
    )


def briefing(result: Briefing) -> str:
    from orgplane.surfaces.briefing.markdown import render_markdown

    return render_markdown(result)


def checkpoint(result: RunView) -> str:
    return run_view(result)


def published(result: Published) -> str:
    return f"published {result.output} ({result.size} bytes): {result.finding.message}"


def metric_pushed(result: MetricPushed) -> str:
    return f"{result.metric} = {result.value:g} at {result.at.isoformat()}"


def gate(result: GateResult) -> str:
    lines = [
        f"gate of {result.seat}: {'ok' if result.ok else 'refused ' + ', '.join(result.refused)}"
    ]
    for i in result.inputs:
        age = f", {i.age} old" if i.age else ""
        lines.append(f"- {i.output} ({i.status}, {i.protocol}): given {i.given}{age}; {i.reason}")
    return "\n".join(lines)


def failure_reported(result: FailureReported) -> str:
    return (
        f"event {result.event_id} recorded: {result.kind} of {result.subject_kind} "
        f"{result.subject_id} (seat {result.seat_id or 'none'}); {result.next}"
    )


def _decision(d: DecisionView) -> str:
    who = f", told {d.holder}" if d.holder else ""
    return (
        f"decision {d.id} ({d.state}): {d.kind} of {d.subject_kind} {d.subject_id} -> "
        f"{d.action}, tier {d.tier or 'none'}{who}"
    )


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) or "none"


def queue(result: QueueView) -> str:
    """One line per open hand-off, oldest first."""
    if not result.items:
        return f"no open hand-offs for {result.seat or 'any seat'}"
    lines = [f"{len(result.items)} open hand-offs ({result.overdue} overdue):"]
    for i in result.items:
        late = ", OVERDUE" if i.overdue else ""
        lines.append(
            f"  #{i.id} to {i.seat}: record {i.record} of {i.run_id} at {i.stage}, "
            f"{i.age} old{late}: {i.reason}"
        )
    return "\n".join(lines)


def resolved(result: ResolvedView) -> str:
    """What resolving did, and the run's state after it."""
    said = "done by a person" if result.outcome == "done" else "returned to its run"
    return (
        f"hand-off #{result.id} (record {result.record} of {result.run_id}): {said}; "
        f"the run is {result.run_state}"
    )
