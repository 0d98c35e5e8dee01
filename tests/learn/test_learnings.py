"""The close gate: an incident closes only with a learning and exactly one change; org changes are
round-trip edits of org.yaml (comments kept, validated, atomic), shown as a diff and synced with
the incident as their cause; a ``--handle-error`` close resumes the held run and records whether
the failed record went through; a recurrence reopens a closed incident."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from orgplane.errors import OrgFileError, PermissionDenied, UsageError
from orgplane.learn.changes import (
    Coverage,
    FollowUp,
    HandleError,
    NoChange,
    Retire,
    SetKey,
    parse_set,
)
from orgplane.org.loader import load_org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.decisions import decide_pending
from orgplane.service.incidents import (
    ack_incident,
    close_incident,
    incident_change,
    list_follow_ups,
    list_incidents,
    show_incident,
)
from orgplane.service.runs import start_run
from orgplane.service.session import Session
from orgplane.store.tables import follow_ups, org_changes, org_syncs

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        yield session


def _stale(session: Session, subject: str = "dash-analysis", at: datetime = T0) -> int:
    """A stale event of an output, decided and filed; the id of its incident."""
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="stale",
                occurred_at=at,
                subject_kind="output",
                subject_id=subject,
                seat_id="dash",
                message=f"{subject} is stale",
            ),
        )
    decide_pending(session)
    [incident] = list_incidents(session, open_only=True).incidents
    return incident.id


def _close(session: Session, incident_id: int, **options: str) -> object:
    return close_incident(session, incident_id, "what we learned", incident_change(**options))


def test_a_set_close_edits_org_yaml_keeps_comments_and_names_the_incident(
    session: Session, agency: Path
) -> None:
    incident_id = _stale(session)
    before = agency.read_text()
    closed = close_incident(
        session,
        incident_id,
        "Dash's analysis lands late on Mondays",
        incident_change(set_="output:dash-analysis.max_age=24h"),
    )
    after = agency.read_text()
    assert "# orgplane example" in after and "# where the time of the data lives" in after
    assert load_org(agency).outputs["dash-analysis"].max_age == timedelta(hours=24)
    # Only the one line changed, and the diff says so.
    changed = [
        line
        for line in closed.diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-    max_age: 18h", "+    max_age: 24h"]
    assert len(after.splitlines()) == len(before.splitlines())
    incident = closed.incident
    assert (incident.status, incident.learning) == (
        "closed",
        "Dash's analysis lands late on Mondays",
    )
    assert incident.change is not None and incident.change["kind"] == "set"
    with session.store().read() as conn:
        sync = conn.execute(select(org_syncs).order_by(org_syncs.c.id.desc())).first()
        assert sync is not None
        change = conn.execute(select(org_changes).where(org_changes.c.sync_id == sync.id)).one()
    assert sync.cause == f"incident {incident_id}: Dash's analysis lands late on Mondays"
    assert (sync.incident_id, sync.actor) == (incident_id, None)
    assert (change.entity, change.entity_id, change.change) == (
        "output",
        "dash-analysis",
        "updated",
    )
    assert change.after["max_age"] == "1d"
    steps = [s.step for s in show_incident(session, incident_id).steps]
    assert steps[-1] == "closed"


def test_a_bad_value_is_refused_file_unchanged_incident_open(
    session: Session, agency: Path
) -> None:
    incident_id = _stale(session)
    before = agency.read_bytes()
    with pytest.raises(OrgFileError) as refused:
        _close(session, incident_id, set_="output:dash-analysis.max_age=soon")
    assert "max_age" in str(refused.value)
    with pytest.raises(OrgFileError):  # a seat that does not exist: the references are checked
        _close(session, incident_id, set_="output:dash-analysis.coverage_seat=nobody")
    with pytest.raises(UsageError, match="no settable key"):
        _close(session, incident_id, set_="output:dash-analysis.colour=red")
    assert agency.read_bytes() == before
    [still] = list_incidents(session, open_only=True).incidents
    assert (still.id, still.status, still.learning) == (incident_id, "open", None)


def test_the_gate_refuses_a_close_without_a_change_or_with_two(session: Session) -> None:
    incident_id = _stale(session)
    with pytest.raises(UsageError, match="cannot close without a change"):
        close_incident(session, incident_id, "nothing", None)
    with pytest.raises(UsageError, match=r"exactly one change \(given: none\)"):
        incident_change()
    with pytest.raises(UsageError, match="--handle-error and --no-change"):
        incident_change(handle_error="X=retry", no_change="why")
    with pytest.raises(UsageError, match="empty"):
        close_incident(session, incident_id, "  ", NoChange(reason="r"))
    assert list_incidents(session, open_only=True).incidents[0].status == "open"


def test_coverage_close_sets_the_readers_protocol(session: Session, agency: Path) -> None:
    incident_id = _stale(session)
    closed = close_incident(
        session,
        incident_id,
        "Dan should not use a stale analysis",
        Coverage(seat="dan", output="dash-analysis", protocol="skip_and_flag"),
    )
    assert "-      dash-analysis: use_last_good" in closed.diff
    assert "+      dash-analysis: skip_and_flag" in closed.diff
    assert load_org(agency).seats["dan"].inputs["dash-analysis"].protocol == "skip_and_flag"
    # A new reader, escalating to a person: the long form is written.
    other = _stale(session, "ccm-stats")
    close_incident(
        session,
        other,
        "Radar should hear of it",
        incident_change(coverage="radar:ccm-stats=escalate:coo"),
    )
    declared = load_org(agency).seats["radar"].inputs["ccm-stats"]
    assert (declared.protocol, declared.escalate_to) == ("escalate", "coo")


def test_retire_is_refused_without_a_hearing_and_accepted_after_one(
    session: Session, agency: Path
) -> None:
    incident_id = _stale(session)
    before = agency.read_bytes()
    with pytest.raises(UsageError, match="orgplane hearing open dash") as refused:
        close_incident(session, incident_id, "Dash runs on empty", Retire(seat="dash"))
    assert "hearing decide dash --retire --give" in str(refused.value)
    assert agency.read_bytes() == before
    # Jeff was retired by a decided hearing (the example records it): no file change.
    closed = close_incident(session, incident_id, "Jeff's work moved", Retire(seat="jeff"))
    assert closed.diff == "" and closed.incident.status == "closed"
    assert agency.read_bytes() == before


def test_no_change_closes_without_touching_the_file(session: Session, agency: Path) -> None:
    incident_id = _stale(session)
    before = agency.read_bytes()
    closed = close_incident(
        session, incident_id, "a one-off outage", NoChange(reason="LeadMagic had an outage")
    )
    assert closed.diff == "" and closed.sync_id is None
    assert agency.read_bytes() == before
    assert closed.incident.change is not None
    assert closed.incident.change["reason"] == "LeadMagic had an outage"


def test_follow_up_close_stores_one_owned_by_a_seat(session: Session) -> None:
    incident_id = _stale(session)
    due = datetime(2030, 1, 7, tzinfo=UTC)
    closed = close_incident(
        session,
        incident_id,
        "the quota needs raising",
        incident_change(follow_up="raise the quota", owner="coo", due="2030-01-07"),
    )
    assert closed.follow_up is not None
    assert (closed.follow_up.owner, closed.follow_up.due) == ("coo", due)
    assert not closed.follow_up.overdue
    [listed] = list_follow_ups(session).follow_ups
    assert listed.id == closed.follow_up.id and listed.incident_id == incident_id
    assert list_follow_ups(session, overdue=True).follow_ups == []
    with pytest.raises(UsageError, match="--owner nobody: not an active seat"):
        other = _stale(session, "ccm-stats")
        close_incident(session, other, "x", FollowUp(text="t", owner="nobody", due=due))
    with session.store().read() as conn:
        assert len(conn.execute(select(follow_ups)).all()) == 1


def test_an_agent_may_not_close_or_acknowledge(session: Session) -> None:
    incident_id = _stale(session)
    with pytest.raises(PermissionDenied):
        close_incident(session, incident_id, "x", NoChange(reason="r"), actor="dash")
    with pytest.raises(PermissionDenied):
        ack_incident(session, incident_id, actor="dash")
    closed = close_incident(session, incident_id, "x", NoChange(reason="r"), actor="coo")
    assert closed.incident.closed_by == "coo"


def test_ack_acknowledges_the_open_decisions_and_records_the_step(session: Session) -> None:
    incident_id = _stale(session)
    detail = ack_incident(session, incident_id, "looking", actor="coo")
    assert detail.incident.acked_by == "coo"
    step = detail.steps[-1]
    assert (step.step, step.actor, step.detail["note"]) == ("acknowledged", "coo", "looking")
    assert step.detail["decisions"] == detail.decision_ids != []


def test_a_recurrence_reopens_and_a_new_learning_closes_it_again(
    session: Session, agency: Path
) -> None:
    incident_id = _stale(session)
    close_incident(session, incident_id, "first try", incident_change(no_change="a blip"))
    assert list_incidents(session, open_only=True).incidents == []
    assert _stale(session, at=T0 + timedelta(days=1)) == incident_id  # the same incident, reopened
    [again] = list_incidents(session, open_only=True).incidents
    assert (again.reopened, again.learning_held) == (1, False)
    closed = close_incident(
        session, incident_id, "second try", incident_change(set_="output:dash-analysis.grace=1h")
    )
    assert closed.incident.learning == "second try"
    timeline = show_incident(session, incident_id).steps
    learnings = [s.detail.get("learning") for s in timeline if s.step == "closed"]
    assert learnings == ["first try", "second try"]
    assert [s.step for s in timeline].count("reopened") == 1
    with pytest.raises(UsageError, match="already closed"):
        close_incident(session, incident_id, "third", NoChange(reason="r"))


def _nick(session: Session, agency: Path) -> str:
    """Nick's batch stopped on an unknown LeadMagic error at record 17, as in the demo."""
    simulate = agency.parent / "simulate"
    simulate.mkdir(exist_ok=True)
    (simulate / "leadmagic-faults.json").write_text(
        json.dumps({"17": {"code": "LM-503", "times": 2}})
    )
    batch = agency.parent / "batches" / "prospects-2026-06-21.json"
    view = start_run(session, "nick-prospecting", batch, batch="2026-06-21")
    assert view.state == "failed" and view.stopped is not None
    decide_pending(session)
    return view.run_id


def test_a_handle_error_close_resumes_the_held_run_and_records_the_outcome(
    session: Session, agency: Path
) -> None:
    run_id = _nick(session, agency)
    [incident] = list_incidents(session, open_only=True).incidents
    assert (incident.kind, incident.run_id) == ("unhandled_error", run_id)
    closed = close_incident(
        session,
        incident.id,
        "LeadMagic briefly unavailable (LM-503); retried with backoff",
        incident_change(handle_error="LM-503=retry"),
        actor="ceo",  # a person closes it; Nick's run is resumed all the same
    )
    assert "+      - match: LM-503" in closed.diff and "+        action: retry" in closed.diff
    assert [h.match for h in load_org(agency).processes["nick-prospecting"].handled_errors][
        -1
    ] == "LM-503"
    resumed = closed.resumed
    assert resumed is not None
    assert (resumed.run_id, resumed.state, resumed.went_through) == (run_id, "finished", True)
    assert resumed.record_states == {"validate": "done", "draft": "done"}
    assert closed.incident.change is not None
    assert closed.incident.change["resumed"]["went_through"] is True
    steps = [s.step for s in show_incident(session, incident.id).steps]
    assert steps[-2:] == ["closed", "resumed"]


def test_a_learning_that_skips_the_record_is_recorded_as_not_through(
    session: Session, agency: Path
) -> None:
    _nick(session, agency)
    [incident] = list_incidents(session, open_only=True).incidents
    closed = close_incident(
        session,
        incident.id,
        "skip what LeadMagic refuses",
        HandleError(code="LM-503", action="skip_record"),
    )
    resumed = closed.resumed
    assert resumed is not None and resumed.state == "finished"
    assert resumed.record_states["validate"] == "skipped" and resumed.went_through is False
    assert closed.incident.change is not None
    assert closed.incident.change["resumed"]["went_through"] is False


def test_handle_error_needs_an_incident_of_a_process(session: Session, agency: Path) -> None:
    incident_id = _stale(session)
    before = agency.read_bytes()
    with pytest.raises(UsageError, match="not about a process or a run"):
        _close(session, incident_id, handle_error="X=retry")
    assert agency.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "output:dash-analysis.max_age=24h",
            SetKey(section="output", item="dash-analysis", key="max_age", value="24h"),
        ),
        (
            "metric:leads-booked.target=14",
            SetKey(section="metric", item="leads-booked", key="target", value=14),
        ),
        (
            "output:dash-analysis.critical=false",
            SetKey(section="output", item="dash-analysis", key="critical", value=False),
        ),
        (
            "process:tally-push.urgency=high",
            SetKey(section="process", item="tally-push", key="urgency", value="high"),
        ),
        (
            "output:tally-kpis.schedule=0 7,11 * * *",
            SetKey(section="output", item="tally-kpis", key="schedule", value="0 7,11 * * *"),
        ),
    ],
)
def test_set_syntax(text: str, expected: SetKey) -> None:
    assert parse_set(text) == expected


@pytest.mark.parametrize(
    "text", ["max_age=24h", "output:dash-analysis=24h", "seat:nick.title=x", "output:.max_age=1h"]
)
def test_malformed_set_is_refused_with_the_shape(text: str) -> None:
    with pytest.raises(UsageError, match=re.escape("--set")):
        parse_set(text)


def test_handle_error_syntax() -> None:
    assert incident_change(handle_error="LM-503=retry") == HandleError(
        code="LM-503", action="retry"
    )
    assert incident_change(handle_error="E=1=escalate:coo") == HandleError(
        code="E=1", action="escalate", escalate_to="coo"
    )
    with pytest.raises(UsageError, match="the action is one of"):
        incident_change(handle_error="LM-503=ignore")


def test_concurrent_edits_are_serialised_and_none_is_lost(agency: Path) -> None:
    import threading

    from orgplane.org.edit import add_handled_error
    from orgplane.org.models import HandledError

    def add(n: int) -> None:
        add_handled_error(
            agency,
            "pepper-triage",
            HandledError(match=f"E-{n}", action="retry", message=f"error {n}"),
        )

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    handled = [h.match for h in load_org(agency).processes["pepper-triage"].handled_errors]
    assert sorted(m for m in handled if m.startswith("E-")) == [f"E-{n}" for n in range(8)]
    assert "# orgplane example" in agency.read_text()
