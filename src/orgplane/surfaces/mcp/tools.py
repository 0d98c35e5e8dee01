"""Every MCP tool of orgplane: its name (``verb_noun``), a description written for a model to
choose well (what it returns, when to use it, when not), its four annotations, and the one
service function it calls. Parsing arguments and rendering text is all a tool does.

Annotations are declared in full on every tool (:data:`READ` and the write tools' own); the
tests fail if one is missing. This module does not use postponed annotations: the SDK reads
each tool's signature (its ``Context`` parameter, its ``Annotated`` return) at registration.
"""

from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from orgplane.service import briefing as briefing_service
from orgplane.service import (
    decisions,
    failures,
    gate,
    handoffs,
    health,
    incidents,
    outputs,
    run_work,
    runs,
    seats,
    watch,
)
from orgplane.service import org as org_service
from orgplane.service.briefing import Briefing
from orgplane.service.decisions import DecisionList, DecisionView
from orgplane.service.failures import FailureReported, ReportedKind, ReportedSubject
from orgplane.service.gate import GateResult
from orgplane.service.handoffs import QueueView, ResolvedView
from orgplane.service.health import SeatDetail
from orgplane.service.incidents import IncidentDetail, IncidentList
from orgplane.service.org import Chart
from orgplane.service.outputs import OutputStatuses
from orgplane.service.run_work import RunWork
from orgplane.service.runs import RunList, RunView
from orgplane.service.seats import SeatList
from orgplane.service.session import Session
from orgplane.service.watch import MetricPushed, Published, Scorecard
from orgplane.surfaces.mcp import text
from orgplane.surfaces.mcp.server import Runtime, refusal

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
"""Every read tool: changes nothing another seat sees, safe to repeat, orgplane's own data."""

WRITE_TOOLS = frozenset(
    {
        "record_checkpoint",
        "publish_output",
        "push_metric",
        "gate_inputs",
        "report_failure",
        "ack_decision",
        "resolve_handoff",
    }
)
"""The tools offered only with ``--allow-writes`` (or, over HTTP, to a seat's token)."""

Ctx = Context[Any, Any]
SeatId = Annotated[str, Field(min_length=1, max_length=200, description="A seat id, e.g. nick")]
RunId = Annotated[
    str, Field(min_length=1, max_length=400, description="A run id, e.g. nick-prospecting:b1")
]

RecordKey = Annotated[
    Annotated[str, Field(min_length=1, max_length=400)] | int,
    Field(description="The record's id in the batch (its position when it has none), e.g. 7"),
]
"""A record key: text, or the number a batch's ``id`` field usually is (sent as given)."""


def register_tools(server: MCPServer, rt: Runtime, *, allow_writes: bool) -> None:
    """Add every read tool to ``server``, and every write tool with ``allow_writes``."""
    _register_reads(server, rt)
    if allow_writes:
        _register_writes(server, rt)


def _register_reads(server: MCPServer, rt: Runtime) -> None:
    @server.tool(
        name="show_chart",
        title="Org chart with coverage protocols",
        annotations=READ,
        description=(
            "The org chart: every seat in its reporting tree (human or agent, holder, owner, "
            "active or retired), the outputs each seat produces, which seats read each output "
            "and the coverage protocol each reader follows when it is stale, corrupt or missing "
            "(skip_and_flag, use_last_good, block, escalate), and whether each output's failure "
            "response is written down. Use it for 'who does what', 'who reports to whom', "
            "'which seats have coverage protocols'. Not for live health (list_stale_outputs) "
            "nor one seat's SOPs and decisions (show_seat)."
        ),
    )
    async def show_chart(ctx: Ctx) -> Annotated[CallToolResult, Chart]:
        return await rt.call(ctx, text.chart, org_service.chart)

    @server.tool(
        name="list_seats",
        title="List seats",
        annotations=READ,
        description=(
            "Every seat as a flat list: id, title, kind, holder, reports_to, owner, status, "
            "capabilities, the outputs it produces, its inputs with their protocols, its "
            "processes. Filter with kind (human | agent) and status (active | retired). Use it "
            "to find a seat id; use show_chart for the tree, show_seat for one seat in full."
        ),
    )
    async def list_seats(
        ctx: Ctx,
        kind: Literal["human", "agent"] | None = None,
        status: Literal["active", "retired"] | None = None,
    ) -> Annotated[CallToolResult, SeatList]:
        return await rt.call(ctx, text.seat_list, seats.list_seats, kind=kind, status=status)

    @server.tool(
        name="show_seat",
        title="Show a seat",
        annotations=READ,
        description=(
            "One seat in full: its health now (fresh, stale, failing, retired, and why), its "
            "outputs (their state, who reads each with which protocol), its inputs (producer, "
            "protocol, who it escalates to), its processes with their latest runs, owner, "
            "whom it reports to and who reports to it, recent failure events, the open "
            "decisions about it, and its effective SOPs: its own, then those inherited from "
            "the human seats above it. An agent holding a seat calls this to learn the rules "
            "it works under. Not for the content of its inputs (gate_inputs, show_briefing)."
        ),
    )
    async def show_seat(ctx: Ctx, seat_id: SeatId) -> Annotated[CallToolResult, SeatDetail]:
        return await rt.call(ctx, text.seat_detail, health.show_seat, seat_id)

    @server.tool(
        name="list_stale_outputs",
        title="Outputs that are not fresh",
        annotations=READ,
        description=(
            "Every output that is not fresh right now (stale, corrupt, missing, invalid, "
            "frozen, ...), each with the reason in words, its age and last good time, its "
            "producer and the seats reading it with their protocols; include_fresh lists every "
            "output. Classifies without recording anything (the watcher records events). Use it "
            "for 'what is stale?'. Not for metrics (show_scorecard) nor runs (show_run)."
        ),
    )
    async def list_stale_outputs(
        ctx: Ctx, include_fresh: bool = False
    ) -> Annotated[CallToolResult, OutputStatuses]:
        return await rt.call(
            ctx, text.output_statuses, outputs.output_statuses, include_fresh=include_fresh
        )

    @server.tool(
        name="list_runs",
        title="List runs",
        annotations=READ,
        description=(
            "The most recent runs of staged processes, newest first: run id, process, state "
            "(running, failed, held, stopped, finished) and settled record counts; filter by "
            "process_id. Use it to find a run id; show_run gives one run per stage."
        ),
    )
    async def list_runs(
        ctx: Ctx,
        process_id: Annotated[str | None, Field(max_length=200)] = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 20,
    ) -> Annotated[CallToolResult, RunList]:
        return await rt.call(ctx, text.run_list, runs.list_runs, process_id=process_id, limit=limit)

    @server.tool(
        name="show_run",
        title="A run's progress per stage",
        annotations=READ,
        description=(
            "A run's progress: for each stage, how many records are done, failed, skipped, in "
            "doubt, held, running and pending; where a failed run stopped and on what error; "
            "which records wait for a person. An agent resuming a batch calls this first and "
            "checkpoints only what is not done. Not for listing runs (list_runs)."
        ),
    )
    async def show_run(ctx: Ctx, run_id: RunId) -> Annotated[CallToolResult, RunView]:
        return await rt.call(ctx, text.run_view, runs.run_status, run_id)

    @server.tool(
        name="list_pending_records",
        title="What is left of a run",
        annotations=READ,
        description=(
            "The records of a run not yet done or skipped, in batch order: each record's key, "
            "its input as the batch gave it, the state of each stage so far and the next stage "
            "to record (None when it waits for a person). Use it, after show_run, when working a "
            "run by checkpoints: it says exactly what to do next, so after a cut-off nothing is "
            "redone. At most limit records; 'left' counts them all."
        ),
    )
    async def list_pending_records(
        ctx: Ctx, run_id: RunId, limit: Annotated[int, Field(ge=1, le=500)] = 50
    ) -> Annotated[CallToolResult, RunWork]:
        return await rt.call(ctx, text.run_work, run_work.run_work, run_id, limit=limit)

    @server.tool(
        name="show_scorecard",
        title="Scorecard",
        annotations=READ,
        description=(
            "Every scorecard metric: its latest value, target and whether it is met, owner "
            "seat, last clean push and whether it is stale against its push schedule. Use it "
            "for KPI questions. Not for outputs (list_stale_outputs)."
        ),
    )
    async def show_scorecard(ctx: Ctx) -> Annotated[CallToolResult, Scorecard]:
        return await rt.call(ctx, text.scorecard, watch.scorecard)

    @server.tool(
        name="list_decisions",
        title="List decisions",
        annotations=READ,
        description=(
            "Decisions the engine took on failure events, newest first: what failed, the "
            "action chosen, urgency tier and deadline, the rule that fired (org.yaml file:line), "
            "who was told, and state (live, acknowledged, closed). Open ones only unless "
            "include_closed. Use it for 'what needs attention?'; show_decision for one in full."
        ),
    )
    async def list_decisions(
        ctx: Ctx,
        include_closed: bool = False,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> Annotated[CallToolResult, DecisionList]:
        return await rt.call(
            ctx,
            text.decision_list,
            decisions.list_decisions,
            include_closed=include_closed,
            limit=limit,
        )

    @server.tool(
        name="show_decision",
        title="Show a decision",
        annotations=READ,
        description=(
            "One decision with the ids of every event it consumed and every notification "
            "sent for it. Use after list_decisions, with its id."
        ),
    )
    async def show_decision(
        ctx: Ctx, decision_id: Annotated[int, Field(ge=1)]
    ) -> Annotated[CallToolResult, DecisionView]:
        return await rt.call(ctx, text.decision, decisions.show_decision, decision_id)

    @server.tool(
        name="list_incidents",
        title="List incidents",
        annotations=READ,
        description=(
            "Incidents newest first: decided failures grouped by seat, subject and kind, each "
            "with its status (open, recovered, closed), events counted, tier, and the learning "
            "that closed it (and whether that learning held). Open ones only with open_only. "
            "Use it for 'what keeps failing?' or 'what did we learn?'; show_incident for one."
        ),
    )
    async def list_incidents(
        ctx: Ctx,
        open_only: bool = False,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> Annotated[CallToolResult, IncidentList]:
        return await rt.call(
            ctx, text.incident_list, incidents.list_incidents, open_only=open_only, limit=limit
        )

    @server.tool(
        name="show_incident",
        title="Show an incident",
        annotations=READ,
        description=(
            "One incident in full: its timeline (detected, decided, acknowledged, recovered, "
            "closed, reopened, resumed: who and when), time to detect / decide / recover, its "
            "events, decision ids, the learning and its change, and its follow-ups. Use after "
            "list_incidents, with its id."
        ),
    )
    async def show_incident(
        ctx: Ctx, incident_id: Annotated[int, Field(ge=1)]
    ) -> Annotated[CallToolResult, IncidentDetail]:
        return await rt.call(ctx, text.incident_detail, incidents.show_incident, incident_id)

    @server.tool(
        name="show_briefing",
        title="A seat's briefing",
        annotations=READ,
        description=(
            "A seat's briefing (e.g. radar's morning briefing): each input's summary, labelled "
            "current only when fresh, else flagged with the producer and what to do; the open "
            "decisions waiting on a person; the scorecard. The text is Markdown. Only for a "
            "seat that declares inputs. It stores what the gate answered, as 'orgplane brief' "
            "does (a log nobody reads as state)."
        ),
    )
    async def show_briefing(ctx: Ctx, seat_id: SeatId) -> Annotated[CallToolResult, Briefing]:
        return await rt.call(ctx, text.briefing, briefing_service.compile_briefing, seat_id)

    @server.tool(
        name="list_handoffs",
        title="Hand-offs waiting for a person",
        annotations=READ,
        description=(
            "The open hand-offs: records an agent handed to a person because they need "
            "judgment (not failures), oldest first, each with its id, run, record, stage, the "
            "reason, its age and whether it is overdue against the seat's answers_within. A "
            "call acting as a seat sees only that seat's own queue; without a seat, every "
            "seat's (or seat_id's). Use it for 'what waits for me?'; resolve one with "
            "resolve_handoff. Not for failures waiting on a person (list_decisions)."
        ),
    )
    async def list_handoffs(
        ctx: Ctx, seat_id: SeatId | None = None
    ) -> Annotated[CallToolResult, QueueView]:
        seat = rt.seat_of(ctx)
        return await rt.call(ctx, text.queue, handoffs.queue, seat_id, actor=seat)


def _register_writes(server: MCPServer, rt: Runtime) -> None:
    @server.tool(
        name="record_checkpoint",
        title="Record a checkpoint",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,  # adds a stage result; never undoes one
            idempotent_hint=False,  # a failure counts an attempt toward the handled retries
            open_world_hint=False,
        ),
        description=(
            "Record that one stage of one record of your run is done (with optional JSON "
            "output), failed (with the error code, e.g. LM-500; the process's handled errors "
            "decide retry, skip or fail), or handoff: the record needs a person's judgment, so "
            "it goes to the human seat handoff_to with a reason (not a failure: no event, the "
            "run goes on). Stages go in order: a stage is refused until the "
            "earlier ones are done. Repeating a done with the same output changes nothing, so "
            "after a cut-off call show_run and checkpoint only what is not done. Only runs of "
            "your own seat's processes. Returns the run's progress afterwards."
        ),
    )
    async def record_checkpoint(
        ctx: Ctx,
        run_id: RunId,
        record: RecordKey,
        stage: Annotated[str, Field(min_length=1, max_length=200)],
        outcome: Literal["done", "failed", "handoff"] = "done",
        error_code: Annotated[str | None, Field(max_length=200)] = None,
        output: dict[str, Any] | None = None,
        message: Annotated[str | None, Field(max_length=2000)] = None,
        handoff_to: Annotated[str | None, Field(max_length=200)] = None,
        reason: Annotated[str | None, Field(max_length=2000)] = None,
    ) -> Annotated[CallToolResult, RunView]:
        import json

        if outcome == "failed" and not error_code:
            return refusal("bad request: outcome 'failed' needs error_code, e.g. LM-500")
        if (outcome == "handoff") != (handoff_to is not None and reason is not None):
            return refusal(
                "bad request: outcome 'handoff' needs handoff_to (a human seat) and reason, "
                "and they go only with it"
            )
        return await rt.call(
            ctx,
            text.checkpoint,
            runs.checkpoint,
            run_id,
            str(record),
            stage,
            done=outcome == "done",
            failed=error_code if outcome == "failed" else None,
            output=json.dumps(output) if output is not None else None,
            message=message,
            handoff=handoff_to,
            reason=reason,
            act=True,
        )

    @server.tool(
        name="publish_output",
        title="Publish an output",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=True,  # replaces the content every reader of the output gets next
            idempotent_hint=False,  # each publish is stamped now, so freshness moves on
            open_world_hint=False,
        ),
        description=(
            "Publish new content (text in the output's format: json, yaml, csv or text) for an "
            "output your seat produces; orgplane classifies it at once (fresh, invalid, ...) "
            "and returns that finding. Consumers read it through the coverage gate from then "
            "on. Only outputs your seat produces; content over the output's max_bytes is "
            "refused."
        ),
    )
    async def publish_output(
        ctx: Ctx,
        output_id: Annotated[str, Field(min_length=1, max_length=200)],
        content: str,
    ) -> Annotated[CallToolResult, Published]:
        return await rt.call(
            ctx,
            text.published,
            watch.publish,
            output_id,
            content.encode("utf-8"),
            act=True,
        )

    @server.tool(
        name="push_metric",
        title="Push a metric value",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,  # appends a value; earlier values stay
            idempotent_hint=False,  # each push is another value on the scorecard
            open_world_hint=False,
        ),
        description=(
            "Push one value of a scorecard metric your seat owns, measured at 'at' (ISO 8601 "
            "with an offset, e.g. 2026-06-21T09:00:00+00:00; default now). A naive or future "
            "time is refused. Only metrics your seat owns."
        ),
    )
    async def push_metric(
        ctx: Ctx,
        metric_id: Annotated[str, Field(min_length=1, max_length=200)],
        value: Annotated[float, Field(allow_inf_nan=False)],
        at: Annotated[str | None, Field(max_length=100)] = None,
    ) -> Annotated[CallToolResult, MetricPushed]:
        return await rt.call(
            ctx, text.metric_pushed, watch.push_metric, metric_id, value, at=at, act=True
        )

    @server.tool(
        name="gate_inputs",
        title="Gate my inputs",
        annotations=ToolAnnotations(
            read_only_hint=False,  # stores each answer (and keeps fresh content as last good)
            destructive_hint=False,
            idempotent_hint=True,  # asking again gives the same answers for the same state
            open_world_hint=False,
        ),
        description=(
            "Read your seat's inputs through the coverage gate: for each input, its status "
            "and what your protocol gives you: fresh content, the last good content labelled "
            "with its age (use_last_good), nothing and a flag (skip_and_flag), or a refusal "
            "(block, escalate: whom). Call it before working from your inputs; never use "
            "content the gate marks not current as if it were. Acts as your own seat."
        ),
    )
    async def gate_inputs(ctx: Ctx) -> Annotated[CallToolResult, GateResult]:
        return await rt.call(ctx, text.gate, _gate_own, act=True)

    @server.tool(
        name="report_failure",
        title="Report a failure",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,  # appends an event
            idempotent_hint=False,  # every report is its own event, decided on its own
            open_world_hint=False,
        ),
        description=(
            "Report a failure orgplane cannot see by itself: an error outside a staged run, or "
            "an input that is wrong in a way its checks miss. Give the kind (crash, "
            "unhandled_error, corrupt, invalid, ...), what failed (subject_kind and subject_id: "
            "an output, metric, process, run, seat or heartbeat) and a one-line message; the "
            "decision engine then decides who is told and by when. Only failures of your own "
            "things or of outputs you read. Not for a record that needs a person's judgment "
            "(that is a handoff, not a failure), nor for a stage's failure (record_checkpoint "
            "with outcome failed)."
        ),
    )
    async def report_failure(
        ctx: Ctx,
        kind: ReportedKind,
        subject_kind: ReportedSubject,
        subject_id: Annotated[str, Field(min_length=1, max_length=400)],
        message: Annotated[str, Field(min_length=1, max_length=2000)],
        run_id: Annotated[str | None, Field(max_length=400)] = None,
        record: RecordKey | None = None,
        stage: Annotated[str | None, Field(max_length=200)] = None,
    ) -> Annotated[CallToolResult, FailureReported]:
        return await rt.call(
            ctx,
            text.failure_reported,
            failures.report_failure,
            kind,
            subject_kind,
            subject_id,
            message,
            run_id=run_id,
            record=None if record is None else str(record),
            stage=stage,
            act=True,
        )

    @server.tool(
        name="ack_decision",
        title="Acknowledge a decision",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,  # silences for the tier's ack timeout; it comes back
            idempotent_hint=True,
            open_world_hint=False,
        ),
        description=(
            "Acknowledge an open decision: a person says 'I have it'. It is silenced until its "
            "tier's ack timeout, then live again unless its subject recovered. Only for human "
            "seats; an agent seat is refused. Not for closing it (it closes when the subject "
            "recovers)."
        ),
    )
    async def ack_decision(
        ctx: Ctx,
        decision_id: Annotated[int, Field(ge=1)],
        note: Annotated[str | None, Field(max_length=2000)] = None,
    ) -> Annotated[CallToolResult, DecisionView]:
        return await rt.call(
            ctx, text.decision, decisions.ack_decision, decision_id, note, act=True
        )

    @server.tool(
        name="resolve_handoff",
        title="Resolve a hand-off",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,  # closes the item; the record's earlier work stays
            idempotent_hint=False,  # a second resolve of the same item is refused
            open_world_hint=False,
        ),
        description=(
            "Close one of your seat's hand-offs (ids from list_handoffs): outcome 'done' when "
            "you finished the record yourself, or 'return' to send it back into its run at the "
            "next stage with your output (a JSON object the next stage takes as its input; "
            "required with return). Only items handed to your own seat; a note is kept."
        ),
    )
    async def resolve_handoff(
        ctx: Ctx,
        handoff_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
        outcome: Literal["done", "return"],
        output: dict[str, Any] | None = None,
        note: Annotated[str | None, Field(max_length=2000)] = None,
    ) -> Annotated[CallToolResult, ResolvedView]:
        import json

        return await rt.call(
            ctx,
            text.resolved,
            handoffs.resolve_handoff,
            handoff_id,
            outcome,
            output=json.dumps(output) if output is not None else None,
            note=note,
            act=True,
        )


def _gate_own(session: Session, *, actor: str) -> GateResult:
    """Gate the acting seat's own inputs (the tool takes no seat: it is always yours)."""
    return gate.gate(session, actor, actor=actor)
