"""Effectful stages after a crash mid-effect: reconciled when the stage can tell, otherwise held
for a person, flagged, and never silently redone; a person releases them with a checkpoint.

The crash here is a KeyboardInterrupt raised inside the stage: like a kill, nothing after it is
recorded (the SIGKILL tests in test_crash.py do the same with real processes).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orgplane.errors import UsageError
from orgplane.org.models import Org
from orgplane.runs import Process, check, record_checkpoint, run_status
from orgplane.runs.process import start_run
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints, run_records

from .conftest import ledger_counts, records
from .test_runner import recent_events_of


def crash(pipe: Process, batch: list[dict[str, object]]) -> str:
    with pytest.raises(KeyboardInterrupt):
        pipe.run(batch, batch="b1")
    return "pipe:b1"


@pytest.mark.parametrize("moment", ["before", "after"])
def test_reconcile_decides_whether_the_effect_happened(
    pipe: Process, org: Org, store: Store, moment: str
) -> None:
    batch = records(5, crash={3: f"draft-{moment}"})
    run_id = crash(pipe, batch)
    assert run_status(store, run_id).stage("draft").running == 1  # the intent, no result
    status = pipe.run(batch, batch="b1")
    assert status.state == "finished"
    counts = ledger_counts(org.base_dir)
    assert counts[("draft", "3")] == 1  # reconciled: not redone if it happened, done once if not
    assert all(counts[("send", str(i))] == 1 for i in range(1, 6))
    assert check(store, run_id) == []
    with store.read() as conn:
        reconciled = conn.execute(
            select(run_checkpoints.c.reconciled).where(
                run_checkpoints.c.seq == 3, run_checkpoints.c.stage == "draft"
            )
        ).scalar_one()
    assert reconciled == ("not_done" if moment == "before" else "done")


def test_without_reconcile_the_record_is_held_flagged_and_released_by_a_person(
    pipe: Process, org: Org, store: Store
) -> None:
    batch = records(4, crash={2: "send-after"})
    run_id = crash(pipe, batch)
    status = pipe.run(batch, batch="b1")
    assert status.state == "held"
    assert [(w.record, w.stage, w.state) for w in status.waiting] == [("2", "send", "in_doubt")]
    assert status.stage("send").in_doubt == 1 and status.stage("send").done == 3
    assert status.needs_attention
    assert status.as_dict()["in_doubt"][0]["record"] == "2"
    events = recent_events_of(store, "in_doubt")
    assert len(events) == 1 and "orgplane checkpoint pipe:b1 2 send --done" in str(
        events[0]["message"]
    )
    assert ledger_counts(org.base_dir)[("send", "2")] == 1  # not silently redone

    # The person checks the outside world: the message was sent. Recorded, the run finishes.
    status = record_checkpoint(store, org, run_id, "2", "send", "done", output={"sent": "by hand"})
    assert status.state == "finished" and not status.waiting
    assert ledger_counts(org.base_dir)[("send", "2")] == 1
    assert check(store, run_id) == []


def test_redo_releases_a_held_record_to_run_again_on_resume(
    pipe: Process, org: Org, store: Store
) -> None:
    batch = records(3, crash={3: "send-before"})
    run_id = crash(pipe, batch)
    assert pipe.run(batch, batch="b1").state == "held"
    assert ledger_counts(org.base_dir)[("send", "3")] == 0
    status = record_checkpoint(store, org, run_id, "3", "send", "redo")
    assert status.state == "stopped" and status.stage("send").pending == 1
    status = pipe.resume(run_id)
    assert status.state == "finished"
    assert ledger_counts(org.base_dir)[("send", "3")] == 1
    with pytest.raises(UsageError, match="already done"):
        record_checkpoint(store, org, run_id, "3", "send", "redo")


def test_manual_checkpoints_for_an_agent_that_is_not_python(org: Org, store: Store) -> None:
    run_id = start_run(store, org.processes["manual"], [{"id": "a"}, {"id": "b"}], batch="m1")
    with pytest.raises(UsageError, match="stage 'fetch' is not done yet"):
        record_checkpoint(store, org, run_id, "a", "post", "done")
    record_checkpoint(store, org, run_id, "a", "fetch", "done", output={"n": 1})
    status = record_checkpoint(store, org, run_id, "a", "post", "done", output={"url": "x"})
    assert status.state == "running" and status.stage("post").done == 1
    status = record_checkpoint(store, org, run_id, "b", "fetch", "failed", code="E-SKIP")
    assert status.stage("fetch").skipped == 1 and status.stage("post").skipped == 1
    assert status.state == "finished"
    assert check(store, run_id) == []


def test_manual_unhandled_failure_fails_the_run(org: Org, store: Store) -> None:
    run_id = start_run(store, org.processes["manual"], [{"id": "a"}], batch="m2")
    status = record_checkpoint(
        store, org, run_id, "a", "fetch", "failed", code="E-NEW", message="new"
    )
    assert status.state == "failed" and status.stopped is not None
    assert (status.stopped["record"], status.stopped["code"]) == ("a", "E-NEW")
    assert recent_events_of(store, "unhandled_error")[0]["run_id"] == run_id


def test_a_record_whose_last_result_was_committed_is_settled_by_the_next_worker(
    pipe: Process, store: Store
) -> None:
    """A record's last result is committed with the next record's intent, and the record is
    settled only at its chunk's end: a crash in between leaves it active with every stage done.
    The next worker settles it without running anything again."""
    batch = records(3, crash={2: "send-after"})
    run_id = crash(pipe, batch)
    with store.read() as conn:
        state_of_1 = conn.execute(
            select(run_records.c.state).where(
                run_records.c.run_id == run_id, run_records.c.seq == 1
            )
        ).scalar_one()
    assert state_of_1 == "active" and run_status(store, run_id).stage("send").done == 1
    pipe.run(batch, batch="b1")
    with store.read() as conn:
        state_of_1 = conn.execute(
            select(run_records.c.state).where(
                run_records.c.run_id == run_id, run_records.c.seq == 1
            )
        ).scalar_one()
    assert state_of_1 == "done"
    assert ledger_counts(pipe.org.base_dir)[("send", "1")] == 1
    assert check(store, run_id) == []
