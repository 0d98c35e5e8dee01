"""Who may write what: a seat writes only its own runs, outputs, metrics, heartbeats and gate
answers, acknowledging takes a person, and the local operator (no actor) may do everything.
Each write use case is tried as its owner, as another seat and as a person, on real stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgplane.errors import PermissionDenied
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service import decisions, gate, runs, watch
from orgplane.service.session import Session
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state

BATCH = "batches/prospects-2026-06-21.json"


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        write_sample_state(session.org(), utcnow())
        yield session


WRITES = {
    "start a run": lambda s, a: runs.start_run(
        s, "pepper-triage", s.org_path.parent / BATCH, batch="p1", actor=a
    ),
    "publish": lambda s, a: watch.publish(s, "pepper-triage", b'{"updated_at": "x"}', actor=a),
    "heartbeat": lambda s, a: watch.heartbeat(s, "pepper-triage", actor=a),
    "push a metric": lambda s, a: watch.push_metric(s, "leads-booked", 9, actor=a),
    "gate": lambda s, a: gate.gate(s, "radar", actor=a),
}
OWNER = {
    "start a run": "pepper",
    "publish": "pepper",
    "heartbeat": "pepper",
    "push a metric": "tally",
    "gate": "radar",
}


@pytest.mark.parametrize("use_case", sorted(WRITES))
def test_a_seat_writes_only_its_own(session: Session, use_case: str) -> None:
    write = WRITES[use_case]
    for other in ("dash", "coo", "jeff", "nobody"):  # another agent, a person, retired, unknown
        with pytest.raises(PermissionDenied) as denied:
            write(session, other)
        assert denied.value.actor == other
        assert other in str(denied.value) and "\n" not in str(denied.value)
    write(session, OWNER[use_case])  # the owner may
    write(session, None)  # and so may the local operator


def test_a_checkpoint_belongs_to_the_runs_seat(session: Session) -> None:
    view = runs.start_run(session, "pepper-triage", session.org_path.parent / BATCH, batch="c1")
    record = "1"
    with pytest.raises(PermissionDenied, match="belongs to seat pepper"):
        runs.checkpoint(session, view.run_id, record, "fetch", done=True, actor="nick")
    after = runs.checkpoint(session, view.run_id, record, "fetch", done=True, actor="pepper")
    assert after.stages["fetch"].done == 1
    with pytest.raises(PermissionDenied):
        runs.resume_run(session, view.run_id, actor="tally")


def test_acknowledging_takes_a_person(session: Session) -> None:
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="unhandled_error",
                occurred_at=utcnow(),
                subject_kind="run",
                subject_id="pepper-triage:a1",
                seat_id="pepper",
                message="an error nobody planned for",
            ),
        )
    [decided] = decisions.decide_once(session, send=False).decisions
    target = decided.id
    with pytest.raises(PermissionDenied, match="takes a person"):
        decisions.ack_decision(session, target, actor="radar")
    assert decisions.ack_decision(session, target, actor="client-lead").state == "acknowledged"
