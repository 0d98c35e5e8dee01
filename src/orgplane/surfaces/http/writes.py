"""The API's write routes: each acts as the seat of the request's token through the service's
``actor=`` (the service decides what that seat may write: its own runs, outputs, metrics,
heartbeats and gate answers; acknowledging takes a person).

Bodies are JSON validated against the models below (unknown keys refused), except a publish,
whose body is the content itself: refused with 413 before it is read when it is declared over
the output's ``max_bytes``, and read no further than one byte past it otherwise.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orgplane.service.decisions import DecisionView
from orgplane.service.failures import FailureReported, ReportedKind, ReportedSubject
from orgplane.service.gate import GateResult
from orgplane.service.handoffs import QueueView, ResolvedView
from orgplane.service.runs import RunView
from orgplane.service.watch import Heartbeat, MetricPushed, Published
from orgplane.surfaces.http.deps import ERRORS, Acting, ErrorBody, result_json, writer
from orgplane.surfaces.http.errors import error_response

router = APIRouter(prefix="/api", tags=["writes"], responses=ERRORS)

Writer = Annotated[Acting, Depends(writer)]
Ident = Annotated[str, Path(min_length=1, max_length=200)]
Note = Annotated[str | None, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckpointBody(Body):
    """One stage of one record: ``done`` (with its ``output``), ``failed`` (with the error
    ``code``, matched against the process's handled errors), ``redo``, or ``handoff`` (to the
    human seat ``to``, with a ``reason``: not a failure)."""

    run_id: Name
    record: Name
    stage: Name
    action: Literal["done", "failed", "redo", "handoff"]
    code: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    output: Any = None
    message: Note = None
    to: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    reason: Annotated[str | None, Field(min_length=1, max_length=2000)] = None

    @model_validator(mode="after")
    def _code_with_failed(self) -> CheckpointBody:
        if (self.action == "failed") != (self.code is not None):
            raise ValueError("give 'code' exactly when 'action' is 'failed'")
        if self.output is not None and self.action != "done":
            raise ValueError("'output' goes only with 'action': 'done'")
        handing = self.action == "handoff"
        if handing != (self.to is not None) or handing != (self.reason is not None):
            raise ValueError("give 'to' and 'reason' exactly when 'action' is 'handoff'")
        return self


class ResolveBody(Body):
    """How a person closed a hand-off: ``done``, or ``return`` with the ``output`` the next
    stage takes as its input."""

    outcome: Literal["done", "return"]
    output: Any = None
    note: Note = None


class HeartbeatBody(Body):
    """That the job started, succeeded (the default) or failed."""

    kind: Literal["start", "success", "fail"] = "success"
    note: Note = None


class MetricBody(Body):
    """One value; ``at`` is ISO 8601 with an offset (default now)."""

    value: Annotated[float, Field(allow_inf_nan=False)]
    at: Annotated[str | None, Field(max_length=64)] = None


class FailureBody(Body):
    """A failure of the acting seat's own process, run or output."""

    subject_kind: ReportedSubject
    subject_id: Name
    message: Annotated[str, Field(min_length=1, max_length=2000)]
    kind: ReportedKind = "unhandled_error"
    record: Annotated[str | None, Field(max_length=200)] = None
    stage: Annotated[str | None, Field(max_length=100)] = None


class AckBody(Body):
    """An optional note kept with the acknowledgement."""

    note: Note = None


@router.post("/checkpoints", response_model=RunView, summary="Record a checkpoint")
def post_checkpoint(acting: Writer, body: CheckpointBody) -> JSONResponse:
    """Record one stage of one record of a run of the token seat's own process; the run's
    progress afterwards."""
    from orgplane.service.runs import checkpoint

    view = checkpoint(
        acting.session,
        body.run_id,
        body.record,
        body.stage,
        done=body.action == "done",
        failed=body.code if body.action == "failed" else None,
        redo=body.action == "redo",
        output=json.dumps(body.output) if body.output is not None else None,
        message=body.message,
        handoff=body.to,
        reason=body.reason,
        actor=acting.seat,
    )
    return result_json(view)


@router.get("/queue", response_model=QueueView, summary="My hand-offs")
def get_queue(acting: Writer) -> JSONResponse:
    """The open hand-offs waiting for the token's seat, oldest first (a token is always
    needed: a queue is its seat's own)."""
    from orgplane.service.handoffs import queue

    return result_json(queue(acting.session, actor=acting.seat))


@router.post("/queue/{handoff_id}/resolve", response_model=ResolvedView, summary="Resolve one")
def post_resolve(
    acting: Writer,
    handoff_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ResolveBody,
) -> JSONResponse:
    """Close one of the token seat's hand-offs: done, or return (the record goes back into its
    run at the next stage with ``output`` as that stage's input)."""
    from orgplane.service.handoffs import resolve_handoff

    output = json.dumps(body.output) if "output" in body.model_fields_set else None
    view = resolve_handoff(
        acting.session, handoff_id, body.outcome, output=output, note=body.note, actor=acting.seat
    )
    return result_json(view)


TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "content over the output's max_bytes"}
}


@router.put(
    "/outputs/{output_id}/content",
    response_model=Published,
    summary="Publish an output's content",
    responses=TOO_LARGE,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_output_content(output_id: Ident, request: Request, acting: Writer) -> JSONResponse:
    """Store the body as the content of one of the token seat's outputs and classify it at
    once (its status, as ``check`` would give it)."""
    from orgplane.service.uploads import publish_limit
    from orgplane.service.watch import publish

    limit = await run_in_threadpool(publish_limit, acting.session, output_id, actor=acting.seat)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit.max_bytes:
        return _too_large(output_id, int(declared), limit.max_bytes)
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > limit.max_bytes:
            return _too_large(output_id, None, limit.max_bytes)
    published = await run_in_threadpool(
        publish, acting.session, output_id, bytes(content), actor=acting.seat
    )
    return result_json(published)


def _too_large(output_id: str, size: int | None, limit: int) -> JSONResponse:
    given = f"{size} bytes" if size is not None else "more"
    return error_response(
        413,
        "too_large",
        f"the content is {given}, over output {output_id}'s max_bytes of {limit}; "
        "publish a summary, not a dump (or raise max_bytes in the org file)",
        headers={"Connection": "close"},
    )


@router.post("/heartbeats/{name}", response_model=Heartbeat, summary="Send a heartbeat")
def post_heartbeat(acting: Writer, name: Ident, body: HeartbeatBody | None = None) -> JSONResponse:
    """That the job behind ``name`` (one of the token seat's outputs, metrics or processes)
    started, succeeded or failed."""
    from orgplane.service.watch import heartbeat

    beat = body or HeartbeatBody()
    done = heartbeat(
        acting.session,
        name,
        start=beat.kind == "start",
        fail=beat.kind == "fail",
        note=beat.note,
        actor=acting.seat,
    )
    return result_json(done)


@router.post("/metrics/{metric_id}", response_model=MetricPushed, summary="Push a metric value")
def post_metric(acting: Writer, metric_id: Ident, body: MetricBody) -> JSONResponse:
    """Store one value of a metric the token's seat owns."""
    from orgplane.service.watch import push_metric

    return result_json(
        push_metric(acting.session, metric_id, body.value, at=body.at, actor=acting.seat)
    )


@router.post("/gate", response_model=GateResult, summary="Gate my inputs")
def post_gate_mine(acting: Writer) -> JSONResponse:
    """Each input of the token's seat, its coverage protocol applied (fresh content, the last
    good with its age, nothing and a flag, or a refusal); the answers are stored."""
    from orgplane.service.gate import gate

    return result_json(gate(acting.session, acting.seat, actor=acting.seat))


@router.post("/gate/{seat_id}", response_model=GateResult, summary="Gate a seat's inputs")
def post_gate(acting: Writer, seat_id: Ident) -> JSONResponse:
    """As ``POST /api/gate``, naming the seat (which must be the token's)."""
    from orgplane.service.gate import gate

    return result_json(gate(acting.session, seat_id, actor=acting.seat))


@router.post(
    "/failures", response_model=FailureReported, status_code=201, summary="Report a failure"
)
def post_failure(acting: Writer, body: FailureBody) -> JSONResponse:
    """Record a visible failure event on one of the token seat's processes, runs or outputs;
    the decision engine decides it as it decides what the watcher sees."""
    from orgplane.service.failures import report_failure

    reported = report_failure(
        acting.session,
        body.kind,
        body.subject_kind,
        body.subject_id,
        body.message,
        record=body.record,
        stage=body.stage,
        actor=acting.seat,
    )
    return result_json(reported, status_code=201)


@router.post(
    "/decisions/{decision_id}/ack", response_model=DecisionView, summary="Acknowledge a decision"
)
def post_ack(
    acting: Writer,
    decision_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AckBody | None = None,
) -> JSONResponse:
    """Silence a decision for its tier's ack timeout (a human seat's token only)."""
    from orgplane.service.decisions import ack_decision

    note = body.note if body else None
    return result_json(ack_decision(acting.session, decision_id, note, actor=acting.seat))
