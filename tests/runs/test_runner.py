"""The runner through its Python API, on SQLite and PostgreSQL: resume, handled errors,
unhandled errors, outputs feeding the next stage, and the guarantees of effectful stages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from orgplane.errors import UsageError
from orgplane.org.models import Org
from orgplane.respond.events import recent_events
from orgplane.runs import Process, check, load_process, run_status, stage
from orgplane.runs.checkpoints import idempotency_key
from orgplane.runs.holds import Force
from orgplane.runs.registry import StageSpec
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints

from .conftest import ledger_counts, records


def test_a_clean_run_finishes_every_stage_once(pipe: Process, org: Org, store: Store) -> None:
    status = pipe.run(records(25), batch="b1")
    assert status.state == "finished"
    assert [(s.name, s.done, s.pending) for s in status.stages] == [
        ("validate", 25, 0),
        ("draft", 25, 0),
        ("send", 25, 0),
    ]
    counts = ledger_counts(org.base_dir)
    assert all(
        counts[(s, str(i))] == 1 for s in ("validate", "draft", "send") for i in range(1, 26)
    )
    assert status.finished_at is not None and status.last_checkpoint_at is not None
    assert check(store, status.run_id) == []


def test_running_a_finished_batch_again_executes_nothing(pipe: Process, org: Org) -> None:
    pipe.run(records(12), batch="b1")
    before = ledger_counts(org.base_dir)
    status = pipe.run(records(12), batch="b1")
    assert status.state == "finished"
    assert ledger_counts(org.base_dir) == before


def test_same_batch_with_other_records_is_refused(pipe: Process) -> None:
    pipe.run(records(3), batch="b1")
    with pytest.raises(UsageError, match="exists with different records"):
        pipe.run(records(4), batch="b1")


def test_unhandled_error_stops_the_run_with_a_failure_record_and_resume_continues(
    pipe: Process, org: Org, store: Store
) -> None:
    batch = records(30, fail={17: {"validate": "LM-500:1"}})
    status = pipe.run(batch, batch="b1")
    assert status.state == "failed"
    assert status.stopped is not None
    assert (status.stopped["record"], status.stopped["stage"]) == ("17", "validate")
    assert status.stopped["error_type"] == "CodedError" and status.stopped["code"] == "LM-500"
    assert "Traceback" in status.stopped["traceback"]
    assert status.stage("validate").done == 16 and status.stage("validate").failed == 1
    assert status.stage("send").done == 16  # the records in flight were finished
    events = recent_events_of(store, "unhandled_error")
    assert len(events) == 1 and events[0]["record_key"] == "17"
    assert events[0]["details"]["traceback"]

    first = ledger_counts(org.base_dir)
    with pytest.raises(UsageError, match="unhandled error LM-500 at record 17"):
        pipe.run(batch, batch="b1")  # the same batch again would resume it: held, unclassified
    assert ledger_counts(org.base_dir) == first  # refused before any stage ran
    status = pipe.resume(status.run_id, force=Force("the source was fixed by hand"))
    assert status.state == "finished" and status.stopped is None
    counts = ledger_counts(org.base_dir)
    for i in range(1, 17):
        assert counts[("validate", str(i))] == first[("validate", str(i))] == 1
    assert counts[("validate", "17")] == 2
    assert all(counts[(s, str(i))] == 1 for s in ("draft", "send") for i in range(1, 31))
    assert check(store, status.run_id) == []


def recent_events_of(store: Store, kind: str) -> list[dict[str, object]]:
    with store.read() as conn:
        return [e for e in recent_events(conn) if e["kind"] == kind]


def test_retry_skip_escalate_and_fail_run(pipe: Process, store: Store) -> None:
    batch = records(
        8,
        fail={
            2: {"draft": "FLAKY:2"},  # twice, then fine: within 2 retries
            3: {"validate": "BAD"},
            4: {"send": "HUMAN"},
            5: {"validate": "Timeout:1"},
        },
    )
    status = pipe.run(batch, batch="b1")
    assert status.state == "held"  # everything settled but record 4 waits for a person
    assert status.stage("validate").skipped == 1 and status.stage("send").skipped == 1
    assert status.stage("send").held == 1
    assert [(w.record, w.stage, w.state) for w in status.waiting] == [("4", "send", "held")]
    assert status.stage("send").done == 6
    with store.read() as conn:
        attempts = conn.execute(
            select(run_checkpoints.c.attempts).where(
                run_checkpoints.c.seq == 2, run_checkpoints.c.stage == "draft"
            )
        ).scalar_one()
    assert attempts == 3
    escalations = recent_events_of(store, "handled_error")
    assert escalations[0]["details"]["escalate_to"] == "boss"

    failing = pipe.run(records(3, fail={2: {"draft": "FATAL"}}), batch="b2")
    assert failing.state == "failed" and failing.stopped is not None
    assert failing.stopped["summary"].startswith("the source is broken; run stopped")


def test_retries_exhausted_stop_the_run(pipe: Process) -> None:
    status = pipe.run(records(2, fail={1: {"draft": "FLAKY:5"}}), batch="b1")
    assert status.state == "failed"
    assert status.stopped is not None and "retries exhausted" in status.stopped["summary"]


def test_output_that_is_not_json_stops_the_run_with_a_clear_message(pipe: Process) -> None:
    status = pipe.run(records(3, bad_output={2: True}), batch="b1")
    assert status.state == "failed" and status.stopped is not None
    assert status.stopped["error_type"] == "OutputNotJSON"
    assert (
        "stage 'validate' output for record 2 is not JSON-serialisable" in status.stopped["message"]
    )


def test_records_that_are_not_json_are_refused(pipe: Process) -> None:
    with pytest.raises(UsageError, match="record 1 of batch 'b1' is not JSON-serialisable"):
        pipe.run([{"id": 1, "when": object()}], batch="b1")
    with pytest.raises(UsageError, match="share the id"):
        pipe.run([{"id": 1}, {"id": 1}], batch="b2")


def test_idempotency_keys_are_stable_and_distinct() -> None:
    key = idempotency_key("pipe:b1", "7", "draft")
    assert key == idempotency_key("pipe:b1", "7", "draft")
    assert (
        len(
            {key, idempotency_key("pipe:b1", "7", "send"), idempotency_key("pipe:b2", "7", "draft")}
        )
        == 3
    )


def test_stage_module_must_match_org_yaml(org: Org, store: Store, tmp_path: Path) -> None:
    module = tmp_path / "partial.py"
    module.write_text(
        "from orgplane.runs import stage\n@stage('validate')\ndef v(r, ctx):\n    return r\n"
    )
    with pytest.raises(UsageError, match="no @stage for 'draft', 'send'"):
        load_process(org, "pipe", store, module=str(module))
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(
        UsageError, match=r"broken.py:2: importing the stages .* RuntimeError: boom"
    ):
        load_process(org, "pipe", store, module=str(broken))
    with pytest.raises(UsageError, match="not found"):
        load_process(org, "pipe", store, module="nowhere/stages.py")


def test_stages_registered_in_code(org: Org, store: Store) -> None:
    calls: list[str] = []

    @stage("validate")
    def v(record: object, ctx: object) -> object:
        calls.append("v")
        return record

    @stage("draft")
    def d(record: object, ctx: object) -> object:
        return {"d": 1}

    @stage("send")
    def s(record: object, ctx: object) -> object:
        return None  # None is a valid output

    stages = {f.__orgplane_stage__.name: f.__orgplane_stage__ for f in (v, d, s)}  # type: ignore[attr-defined]
    status = Process(org, "pipe", stages, store).run(records(3), batch="b1")
    assert status.state == "finished" and calls == ["v", "v", "v"]
    assert check(store, status.run_id) == []


def test_status_of_unknown_run_is_not_found(store: Store) -> None:
    with pytest.raises(UsageError, match="no run 'nope'"):
        run_status(store, "nope")


def test_a_run_is_not_worked_with_other_stages_than_it_started_with(
    pipe: Process, org: Org, store: Store
) -> None:
    run_id = pipe.start(records(2), batch="b1")
    changed = org.model_copy(
        update={
            "processes": {
                **org.processes,
                "pipe": org.processes["pipe"].model_copy(
                    update={
                        "stages": [
                            s.model_copy(update={"kind": "pure"})
                            for s in org.processes["pipe"].stages
                        ]
                    }
                ),
            }
        }
    )
    # Every stage pure now: the draft stage loses its reconcile, which only effectful ones have.
    stages = {**pipe.stages, "draft": StageSpec("draft", pipe.stages["draft"].function)}
    with pytest.raises(
        UsageError,
        match="was started by pipe with stages validate \\(pure\\), draft \\(effectful\\)",
    ):
        Process(changed, "pipe", stages, store).work(run_id)
