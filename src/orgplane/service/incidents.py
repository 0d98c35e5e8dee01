"""Use cases of incidents and their learnings: list, show, acknowledge, close (the close gate
lives in :mod:`orgplane.learn.learnings`), and the follow-ups a learning leaves.

Closing with ``--handle-error`` an incident that held a run (an unhandled error stopped it)
resumes the run at once and records on the incident whether the record that failed then went
through: the learning is checked, not just written down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orgplane.service.models import Result
from orgplane.service.session import Session

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from orgplane.learn.changes import Coverage, FollowUp, HandleError, NoChange, Retire, SetKey

    AnyChange = HandleError | SetKey | Coverage | Retire | FollowUp | NoChange


class IncidentView(Result):
    """One incident: its signature (seat, subject, kind), where it stands, its times.
    ``status`` is ``open`` or ``closed``; ``learning_held`` is False once a closed incident's
    failure came back (``reopened`` counts how often)."""

    id: int
    status: str
    kind: str
    subject_kind: str
    subject_id: str
    seat_id: str | None
    run_id: str | None
    tier: str | None
    action: str | None
    notify: str | None
    events: int
    occurred_at: datetime
    detected_at: datetime
    decided_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    recovered_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    learning: str | None
    change: dict[str, Any] | None
    learning_held: bool | None
    reopened: int
    time_to_detect: timedelta | None
    time_to_decide: timedelta | None
    time_to_recover: timedelta | None
    close: str
    """The command that closes it (shape of the one-of change to choose)."""


class IncidentStep(Result):
    """One step of an incident's timeline: what happened, when, and who did it (None: orgplane
    itself, or the local operator for a person's step)."""

    step: str
    at: datetime
    actor: str | None
    event_id: int | None
    decision_id: int | None
    detail: dict[str, Any]


class IncidentEvent(Result):
    """A failure event filed into the incident."""

    id: int
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    message: str | None


class FollowUpView(Result):
    """A change a learning still needs: its owner, when it is due, whether it is done."""

    id: int
    incident_id: int
    text: str
    owner: str
    due: datetime
    overdue: bool
    created_at: datetime
    created_by: str | None
    done_at: datetime | None
    done_by: str | None
    done_note: str | None
    nagged_at: datetime | None
    nags: int
    done: str
    """The command that marks it done."""


class IncidentDetail(Result):
    """``incident show``: the incident, its timeline, its events, decisions and follow-ups."""

    incident: IncidentView
    steps: list[IncidentStep]
    events: list[IncidentEvent]
    decision_ids: list[int]
    follow_ups: list[FollowUpView]


class IncidentList(Result):
    """Incidents newest first."""

    incidents: list[IncidentView]


class ResumeOutcome(Result):
    """What resuming the run an incident held did: the run's state afterwards and whether the
    record that failed went through (done at every stage; skipped is not through)."""

    run_id: str
    record: str | None
    state: str
    record_states: dict[str, str]
    went_through: bool
    error: str | None = None
    """Why the resume could not run (the run is left as it was), None when it ran."""


class IncidentClosed(Result):
    """``incident close``: the incident as closed, the org.yaml diff ('' when the file did not
    change), the follow-up made, and what resuming its held run did."""

    incident: IncidentView
    diff: str
    sync_id: int | None
    follow_up: FollowUpView | None
    resumed: ResumeOutcome | None


class FollowUpList(Result):
    """Follow-ups by due time."""

    follow_ups: list[FollowUpView]


class FollowUpsNagged(Result):
    """One nag pass: the follow-ups whose owners were told again."""

    nagged: int
    follow_up_ids: list[int]


def _incident_view(session: Session, row: dict[str, Any]) -> IncidentView:
    from orgplane.learn.incidents import incident_times

    times = incident_times(row)
    fields = {k: row[k] for k in IncidentView.model_fields if k in row}
    return IncidentView(
        **fields,
        time_to_detect=times["detect"],
        time_to_decide=times["decide"],
        time_to_recover=times["recover"],
        close=session.command("incident", "close", str(row["id"]), "--learning", "TEXT")
        + " --handle-error|--set|--coverage|--retire|--follow-up|--no-change ...",
    )


def _follow_up_view(session: Session, row: dict[str, Any], now: datetime) -> FollowUpView:
    fields = {k: row[k] for k in FollowUpView.model_fields if k in row}
    return FollowUpView(
        **fields,
        overdue=row["done_at"] is None and row["due"] <= now,
        done=session.command("follow-up", "done", str(row["id"])),
    )


def list_incidents(session: Session, *, open_only: bool = False, limit: int = 200) -> IncidentList:
    """Incidents newest first (the open ones with ``open_only``), at most ``limit``."""
    from orgplane.learn import incidents

    with session.store().read() as conn:
        rows = incidents.list_incidents(conn, open_only=open_only, limit=limit)
    return IncidentList(incidents=[_incident_view(session, r) for r in rows])


def _decision_ids(conn: Connection, incident_id: int) -> list[int]:
    from sqlalchemy import select

    from orgplane.store.tables import decision_events, events

    found = conn.execute(
        select(decision_events.c.decision_id)
        .select_from(decision_events.join(events, events.c.id == decision_events.c.event_id))
        .where(events.c.incident_id == incident_id)
        .where(decision_events.c.decision_id.is_not(None))
        .distinct()
    ).scalars()
    return sorted(int(i) for i in found)


def show_incident(session: Session, incident_id: int) -> IncidentDetail:
    """One incident with its timeline (who and when), events, decisions and follow-ups;
    NotFoundError if there is none."""
    from sqlalchemy import select

    from orgplane.learn import follow_ups, incidents
    from orgplane.store.tables import events
    from orgplane.store.types import utcnow

    now = utcnow()
    with session.store().read() as conn:
        row = incidents.get_incident(conn, incident_id)
        steps = incidents.steps_of(conn, incident_id)
        found = conn.execute(
            select(events).where(events.c.incident_id == incident_id).order_by(events.c.id)
        ).all()
        decisions = _decision_ids(conn, incident_id)
        owed = follow_ups.list_follow_ups(conn, open_only=False, incident_id=incident_id)
    return IncidentDetail(
        incident=_incident_view(session, row),
        steps=[IncidentStep(**{k: s[k] for k in IncidentStep.model_fields}) for s in steps],
        events=[
            IncidentEvent(**{k: e._mapping[k] for k in IncidentEvent.model_fields}) for e in found
        ],
        decision_ids=decisions,
        follow_ups=[_follow_up_view(session, f, now) for f in owed],
    )


def ack_incident(
    session: Session, incident_id: int, note: str | None = None, *, actor: str | None = None
) -> IncidentDetail:
    """A person acknowledges an incident: its open decisions are acknowledged (silenced for
    their tier's ack_timeout) and the incident gets ``acked_at``/``acked_by`` and an
    ``acknowledged`` step. PermissionDenied for an agent seat; UsageError for a closed one."""
    from sqlalchemy import update

    from orgplane.errors import UsageError
    from orgplane.learn import incidents
    from orgplane.respond.decisions import acknowledge, get_decision
    from orgplane.service.permissions import require_person
    from orgplane.store.tables import incidents as table
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    require_person(org, actor, f"acknowledging incident {incident_id}")
    if note is not None and "\x00" in note:
        raise UsageError("the note contains a NUL character; remove it and acknowledge again")
    now = utcnow()
    with store.write() as conn:
        row = incidents.get_incident(conn, incident_id)
        if row["status"] != "open":
            raise UsageError(
                f"incident {incident_id} is closed; acknowledge an open one from "
                "'orgplane incidents --open'"
            )
        acked = []
        for decision_id in _decision_ids(conn, incident_id):
            if get_decision(conn, decision_id)["status"] == "open":
                acknowledge(conn, org, decision_id, note, now=now)
                acked.append(decision_id)
        conn.execute(
            update(table)
            .where(table.c.id == incident_id)
            .values(acked_at=now, acked_by=actor, updated_at=now)
        )
        incidents.record_step(
            conn,
            incident_id,
            "acknowledged",
            actor=actor,
            at=now,
            detail={"note": note, "decisions": acked},
        )
    return show_incident(session, incident_id)


def incident_change(
    *,
    handle_error: str | None = None,
    set_: str | None = None,
    coverage: str | None = None,
    retire: str | None = None,
    follow_up: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    no_change: str | None = None,
) -> AnyChange:
    """The one change a learning makes, from the options as a person typed them; UsageError
    naming the choices for none or several, or a malformed one."""
    from orgplane.learn.changes import change_from_options

    return change_from_options(
        handle_error=handle_error,
        set_=set_,
        coverage=coverage,
        retire=retire,
        follow_up=follow_up,
        owner=owner,
        due=due,
        no_change=no_change,
    )


def close_incident(
    session: Session,
    incident_id: int,
    learning: str,
    change: AnyChange | None,
    *,
    actor: str | None = None,
) -> IncidentClosed:
    """Close an open incident with a learning and exactly one change (the close gate: without
    one it is refused). Org changes are edited into org.yaml (comments kept, validated, written
    atomically) and synced with the incident named as their cause; the diff is returned. A
    ``handle_error`` close of an incident that held a run resumes the run and records whether
    the failed record went through. PermissionDenied for an agent seat."""
    from orgplane.learn import learnings
    from orgplane.learn.changes import HandleError
    from orgplane.service.permissions import require_person
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    require_person(org, actor, f"closing incident {incident_id}")
    closed = learnings.close_incident(
        store, session.org_path, org, incident_id, learning, change, actor=actor
    )
    if closed.org is not None:
        session.forget_org()  # the file changed: read it again (the store is synced already)
    resumed = None
    if isinstance(change, HandleError):
        resumed = _resume_held(session, closed.incident, actor)
    now = utcnow()
    with store.read() as conn:
        from orgplane.learn.follow_ups import get_follow_up
        from orgplane.learn.incidents import get_incident

        row = get_incident(conn, incident_id)
        made = get_follow_up(conn, closed.follow_up_id) if closed.follow_up_id else None
    return IncidentClosed(
        incident=_incident_view(session, row),
        diff=closed.diff,
        sync_id=closed.sync_id or None,
        follow_up=_follow_up_view(session, made, now) if made else None,
        resumed=resumed,
    )


def _resume_held(
    session: Session, incident: dict[str, Any], actor: str | None
) -> ResumeOutcome | None:
    """Resume the run the incident held (failed or held), then read whether the record it
    stopped on went through; None when it held no run (or the run already moved on)."""
    from orgplane.errors import OrgplaneError
    from orgplane.learn.learnings import record_resumed
    from orgplane.runs.status import run_status
    from orgplane.service.runs import resume_run

    run_id = incident["run_id"]
    if run_id is None:
        return None
    store = session.store()
    try:
        before = run_status(store, run_id)
    except Exception:  # the run is gone from the store: nothing to resume
        return None
    if before.state not in ("failed", "held", "stopped"):
        return None
    record = before.stopped["record"] if before.stopped else None
    error = None
    try:
        # The person closing the incident resumes the run its learning is about: the close is
        # the permission (the run's own seat is an agent, which may not close incidents).
        state = resume_run(session, run_id).state
    except OrgplaneError as exc:
        state, error = before.state, str(exc)
    states = _record_states(session, run_id, record) if record else {}
    outcome = ResumeOutcome(
        run_id=run_id,
        record=record,
        state=state,
        record_states=states,
        went_through=bool(states) and all(s == "done" for s in states.values()),
        error=error,
    )
    with store.write() as conn:
        record_resumed(conn, int(incident["id"]), outcome.as_json(), actor=actor)
    return outcome


def _record_states(session: Session, run_id: str, record: str) -> dict[str, str]:
    """The state of one record of a run at each stage (its last checkpoint there)."""
    from sqlalchemy import select

    from orgplane.store.tables import run_checkpoints, run_records

    with session.store().read() as conn:
        seq = conn.execute(
            select(run_records.c.seq)
            .where(run_records.c.run_id == run_id)
            .where(run_records.c.key == record)
        ).scalar()
        if seq is None:
            return {}
        rows = conn.execute(
            select(run_checkpoints.c.stage, run_checkpoints.c.status)
            .where(run_checkpoints.c.run_id == run_id)
            .where(run_checkpoints.c.seq == seq)
        ).all()
    return {str(stage): str(status) for stage, status in rows}


def list_follow_ups(
    session: Session, *, overdue: bool = False, include_done: bool = False
) -> FollowUpList:
    """Follow-ups by due time: the open ones, the overdue ones (``overdue``), or every one."""
    from orgplane.learn import follow_ups
    from orgplane.store.types import utcnow

    now = utcnow()
    with session.store().read() as conn:
        rows = follow_ups.list_follow_ups(
            conn, open_only=not include_done, overdue_at=now if overdue else None
        )
    return FollowUpList(follow_ups=[_follow_up_view(session, r, now) for r in rows])


def follow_up_done(
    session: Session, follow_up_id: int, note: str | None = None, *, actor: str | None = None
) -> FollowUpView:
    """Mark a follow-up done: it is nagged no more and leaves the overdue list. The owner seat,
    a person, or the operator; UsageError when it already is done."""
    from orgplane.errors import UsageError
    from orgplane.learn import follow_ups
    from orgplane.service.permissions import acting_seat
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    if note is not None and "\x00" in note:
        raise UsageError("the note contains a NUL character; remove it")
    now = utcnow()
    with store.write() as conn:
        row = follow_ups.get_follow_up(conn, follow_up_id)
        if actor is not None:
            seat = acting_seat(org, actor)
            if seat.kind != "human" and seat.id != row["owner"]:
                from orgplane.errors import PermissionDenied

                raise PermissionDenied(
                    f"seat {actor} may not mark follow-up {follow_up_id} done: it is owned by "
                    f"{row['owner']}; use a human seat's token or {row['owner']}'s",
                    actor=actor,
                )
        done = follow_ups.mark_done(conn, follow_up_id, actor=actor, note=note, now=now)
    return _follow_up_view(session, done, now)


def nag_follow_ups(session: Session, *, now: datetime | None = None) -> FollowUpsNagged:
    """Tell the owner of every overdue follow-up again, once every ``NAG_EVERY``, the message
    queued in the outbox (sent by the next delivery pass); each nag once whatever other
    senders run."""
    from orgplane.learn.follow_ups import nag_due
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    with store.write() as conn:
        nags = nag_due(
            conn,
            org,
            now or utcnow(),
            command=lambda i: session.command("follow-up", "done", str(i)),
        )
    return FollowUpsNagged(nagged=len(nags), follow_up_ids=[n.follow_up_id for n in nags])
