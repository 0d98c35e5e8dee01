"""The API's read routes: each calls one service function and returns its result as JSON.

Every route needs a valid token unless the app was made with ``public_read``; a few reads store
what they answered (the gate's answers behind a briefing), as ``orgplane brief`` does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse

from orgplane.service.audit import WeeklyAudit
from orgplane.service.briefing import Briefing
from orgplane.service.decisions import DecisionList, DecisionView
from orgplane.service.delegation import DelegationView
from orgplane.service.health import Findings, SeatDetail
from orgplane.service.incidents import FollowUpList, IncidentDetail, IncidentList
from orgplane.service.notifications import NotificationList
from orgplane.service.org import Chart, Readiness
from orgplane.service.runs import RunList, RunView
from orgplane.service.seats import SeatList
from orgplane.service.session import Session
from orgplane.service.watch import Scorecard
from orgplane.surfaces.http.deps import ERRORS, reader, result_json

router = APIRouter(prefix="/api", tags=["reads"], responses=ERRORS)

Reader = Annotated[Session, Depends(reader)]
Ident = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/chart", response_model=Chart, summary="The org chart with coverage")
def get_chart(session: Reader) -> JSONResponse:
    """The reporting tree: every seat with its outputs, who reads each and with which coverage
    protocol, and whether each output's failure response is written down."""
    from orgplane.service.org import chart

    return result_json(chart(session))


@router.get("/readiness", response_model=Readiness, summary="The readiness audit")
def get_readiness(session: Reader) -> JSONResponse:
    """The audit's five questions asked of every process, output and seat."""
    from orgplane.service.org import readiness

    return result_json(readiness(session))


@router.get("/audit/weekly", response_model=WeeklyAudit, summary="The weekly audit")
def get_weekly_audit(
    session: Reader,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="start of the seven days: a date (midnight in the org's timezone) or "
            "an ISO time with its offset; default the seven days before now",
        ),
    ] = None,
) -> JSONResponse:
    """The week's incidents by seat and tier, response times, repeats, learnings applied and
    not held, follow-ups overdue, decisions past their deadline and the org's changes, as
    ``orgplane audit weekly --json``."""
    from orgplane.service.audit import weekly_audit

    return result_json(weekly_audit(session, since=since, flag="since"))


@router.get("/delegation", response_model=DelegationView, summary="The delegation ledger")
def get_delegation(
    session: Reader,
    since: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
) -> JSONResponse:
    """Per process, who finished its records (the agent, a person by design, a person after a
    failure) with shares; per human seat, how fast it answered its hand-offs."""
    from orgplane.service.delegation import delegation

    return result_json(delegation(session, since=since))


@router.get("/seats", response_model=SeatList, summary="Every seat")
def get_seats(session: Reader) -> JSONResponse:
    """Every seat, active and retired, with what it produces, reads and runs."""
    from orgplane.service.seats import list_seats

    return result_json(list_seats(session))


@router.get("/seats/{seat_id}", response_model=SeatDetail, summary="One seat in full")
def get_seat(session: Reader, seat_id: Ident) -> JSONResponse:
    """A seat's health, outputs (each with its finding now), inputs with their protocols,
    processes with their latest runs, recent events, open decisions and effective SOPs (its
    own, then those of the human seats above it)."""
    from orgplane.service.health import show_seat

    return result_json(show_seat(session, seat_id))


@router.get("/findings", response_model=Findings, summary="Check results, recording nothing")
def get_findings(
    session: Reader,
    not_ok: Annotated[bool, Query(description="only what is not ok (not fresh, missed)")] = False,
) -> JSONResponse:
    """Every output, schedule, metric and heartbeat classified now, as ``orgplane check`` does,
    without recording transitions. ``not_ok=true``: the outputs not fresh and the rest not ok."""
    from orgplane.service.health import current_findings

    return result_json(current_findings(session, not_ok_only=not_ok))


@router.get("/runs", response_model=RunList, summary="Recent runs")
def get_runs(
    session: Reader,
    process: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> JSONResponse:
    """The most recent runs, newest first, optionally of one process."""
    from orgplane.service.runs import list_runs

    return result_json(list_runs(session, process_id=process, limit=limit))


@router.get("/runs/{run_id:path}", response_model=RunView, summary="A run's progress per stage")
def get_run(session: Reader, run_id: Ident) -> JSONResponse:
    """Per-stage counts, where the run stopped and why, and what waits for a person."""
    from orgplane.service.runs import run_status

    return result_json(run_status(session, run_id))


@router.get("/scorecard", response_model=Scorecard, summary="The scorecard")
def get_scorecard(session: Reader) -> JSONResponse:
    """Every metric's value, target, owner and last clean push."""
    from orgplane.service.watch import scorecard

    return result_json(scorecard(session))


@router.get("/decisions", response_model=DecisionList, summary="Decisions")
def get_decisions(
    session: Reader,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Open decisions newest first (all of them with ``include_closed``)."""
    from orgplane.service.decisions import list_decisions

    return result_json(list_decisions(session, include_closed=include_closed, limit=limit))


@router.get("/decisions/{decision_id}", response_model=DecisionView, summary="One decision")
def get_decision(
    session: Reader, decision_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> JSONResponse:
    """One decision with the events it consumed and its notifications."""
    from orgplane.service.decisions import show_decision

    return result_json(show_decision(session, decision_id))


@router.get("/incidents", response_model=IncidentList, summary="Incidents")
def get_incidents(
    session: Reader,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> JSONResponse:
    """Incidents newest first (the open ones with ``open``), each with its learning."""
    from orgplane.service.incidents import list_incidents

    return result_json(list_incidents(session, open_only=open_only, limit=limit))


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="One incident")
def get_incident(
    session: Reader, incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> JSONResponse:
    """One incident: its timeline (who and when), times, events, decisions, follow-ups."""
    from orgplane.service.incidents import show_incident

    return result_json(show_incident(session, incident_id))


@router.get("/follow-ups", response_model=FollowUpList, summary="Follow-ups of learnings")
def get_follow_ups(session: Reader, overdue: bool = False) -> JSONResponse:
    """Open follow-ups by due time (only those past due with ``overdue``)."""
    from orgplane.service.incidents import list_follow_ups

    return result_json(list_follow_ups(session, overdue=overdue))


@router.get("/briefing/{seat_id}", response_model=Briefing, summary="A seat's briefing")
def get_briefing(session: Reader, seat_id: Ident) -> JSONResponse:
    """The seat's inputs through the coverage gate (its answers stored), the decisions
    waiting on a person, and the scorecard."""
    from orgplane.service.briefing import compile_briefing

    return result_json(compile_briefing(session, seat_id))


@router.get(
    "/briefing/{seat_id}/html",
    response_class=HTMLResponse,
    summary="A seat's briefing as one HTML page",
)
def get_briefing_html(session: Reader, seat_id: Ident) -> HTMLResponse:
    """The same briefing as one self-contained HTML page."""
    from orgplane.service.briefing import compile_briefing
    from orgplane.surfaces.briefing import render_html

    return HTMLResponse(render_html(compile_briefing(session, seat_id)))


@router.get("/notifications", response_model=NotificationList, summary="Notifications")
def get_notifications(
    session: Reader,
    failed: bool = False,
    unsent: bool = False,
    decision: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Notifications newest first with each target's last result; ``failed``: those that gave
    up or retry after a failure; ``unsent``: those still waiting to be sent."""
    from orgplane.service.notifications import list_notifications

    found = list_notifications(
        session, failed=failed, unsent=unsent, decision_id=decision, limit=limit
    )
    return result_json(found)
