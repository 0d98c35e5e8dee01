"""Reporting a failure orgplane could not see: stored whole as a visible event about the
failing seat, decided like any other, and refused to a seat that neither owns nor reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from orgplane.errors import NotFoundError, PermissionDenied, UsageError
from orgplane.service import decisions, runs
from orgplane.service.failures import MAX_MESSAGE, report_failure
from orgplane.service.session import Session
from orgplane.store.tables import events


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        yield session


def test_a_reported_failure_is_a_visible_event_and_gets_a_decision(session: Session) -> None:
    reported = report_failure(
        session,
        "unhandled_error",
        "output",
        "nick-pipeline",
        "  drafted count is negative  ",
        actor="radar",  # a reader of the output
    )
    assert reported.seat_id == "nick" and reported.message == "drafted count is negative"
    assert reported.reported_by == "radar" and "decision list" in reported.next
    with session.store().read() as conn:
        row = conn.execute(select(events).where(events.c.id == reported.event_id)).one()
    assert row.visible and row.seat_id == "nick" and row.details["reported_by"] == "radar"
    decided = decisions.decide_pending(session)
    assert decided.decided == 1
    assert decided.decisions[0].subject_id == "nick-pipeline"


def test_a_run_failure_names_its_process_seat(session: Session, tmp_path: Path) -> None:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}]))
    run = runs.start_run(session, "pepper-triage", batch, batch="f1")
    reported = report_failure(
        session, "crash", "run", run.run_id, "killed", record="m1", stage="fetch", actor="pepper"
    )
    assert (reported.seat_id, reported.run_id, reported.record) == ("pepper", run.run_id, "m1")
    with pytest.raises(UsageError, match="is of process pepper-triage"):
        report_failure(session, "crash", "process", "nick-prospecting", "x", run_id=run.run_id)


@pytest.mark.parametrize("actor", ["dash", "coo", "jeff", "nobody"])
def test_a_seat_reports_only_its_own_failures_or_its_inputs(session: Session, actor: str) -> None:
    with pytest.raises(PermissionDenied) as denied:
        report_failure(session, "crash", "process", "nick-prospecting", "boom", actor=actor)
    assert denied.value.actor == actor and "\n" not in str(denied.value)


def test_bad_reports_are_refused_and_store_nothing(session: Session) -> None:
    cases = [
        (NotFoundError, ("crash", "output", "no-such-output", "x"), {}),
        (NotFoundError, ("crash", "run", "no-such-run", "x"), {}),
        (NotFoundError, ("crash", "heartbeat", "no-such-job", "x"), {}),
        (UsageError, ("crash", "process", "nick-prospecting", "   "), {}),
        (UsageError, ("crash", "process", "nick-prospecting", "x" * (MAX_MESSAGE + 1)), {}),
        (UsageError, ("crash", "process", "nick-prospecting", "x"), {"record": "7"}),
    ]
    for error, args, kwargs in cases:
        with pytest.raises(error):
            report_failure(session, *args, **kwargs)  # type: ignore[arg-type]
    with session.store().read() as conn:
        assert conn.execute(select(events)).all() == []


def test_a_seat_may_report_every_event_kind_but_recovered() -> None:
    from typing import get_args

    from orgplane.respond.kinds import EventKind
    from orgplane.service.failures import ReportedKind

    assert set(get_args(ReportedKind)) == set(get_args(EventKind)) - {"recovered"}
