"""The handled-error policy is one pure function; the runner and ``orgplane checkpoint
--failed`` reach the same verdict on the same attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from orgplane.org.models import HandledError, Org
from orgplane.org.models import Process as Process_
from orgplane.runs import Process, record_checkpoint, run_status
from orgplane.runs.policy import decide
from orgplane.store.engine import Store

from .conftest import records


@pytest.mark.parametrize(
    ("names", "attempt", "action", "delay"),
    [
        ({"FLAKY"}, 1, "retry", 0.01),
        ({"FLAKY"}, 2, "retry", 0.02),  # the backoff doubles
        ({"FLAKY"}, 3, "fail", 0.0),  # retries: 2, spent
        ({"TimeoutError", "OSError"}, 1, "retry", 0.01),
        ({"BAD"}, 1, "skip", 0.0),
        ({"HUMAN"}, 1, "hold", 0.0),
        ({"FATAL"}, 1, "fail", 0.0),
        ({"NOBODY-KNOWS"}, 1, "fail", 0.0),
    ],
)
def test_decide(org: Org, names: set[str], attempt: int, action: str, delay: float) -> None:
    decision = decide(org.processes["pipe"], names, attempt)
    assert (decision.action, decision.delay) == (action, pytest.approx(delay))
    assert (decision.handled is None) == ("NOBODY-KNOWS" in names)


def test_a_large_retry_count_cannot_overflow_the_backoff(org: Org) -> None:
    handled = org.processes["pipe"].handled_errors[0].model_copy(update={"retries": 5000})
    process = org.processes["pipe"].model_copy(update={"handled_errors": [handled]})
    assert decide(process, {"FLAKY"}, 4000).delay == pytest.approx(0.01 * 2**20)


def test_the_runner_and_manual_checkpoints_count_attempts_alike(
    pipe: Process, org: Org, store: Store
) -> None:
    # The runner: FLAKY on every attempt of validate for record 1; retries: 2 -> the third fails.
    runner = pipe.run(records(1, fail={1: {"validate": "FLAKY"}}), batch="auto")
    assert runner.state == "failed" and "retries exhausted" in str(runner.stopped)
    # By hand: the same code reported three times on a run nobody works.
    run_id = pipe.start(records(1), batch="hand")
    states = [
        record_checkpoint(store, org, run_id, "1", "validate", "failed", code="FLAKY").state
        for _ in range(3)
    ]
    assert states == ["running", "running", "failed"]
    manual = run_status(store, run_id)
    assert manual.stopped is not None and runner.stopped is not None
    assert manual.stopped["summary"] == runner.stopped["summary"]  # one message, one policy


@given(retries=st.integers(0, 50), attempt=st.integers(1, 200))
def test_a_transient_error_retries_then_pauses_never_fails(retries: int, attempt: int) -> None:
    handled = HandledError(
        match="Gone",
        action="retry",
        retries=retries,
        backoff=timedelta(seconds=1),
        when_exhausted="pause",
        message="gone; retried",
    )
    process = Process_(id="p", seat="s", stages=[{"name": "a"}], handled_errors=[handled])
    decision = decide(process, {"Gone"}, attempt)
    assert decision.action == ("retry" if attempt <= retries else "pause")
    assert decision.event_kind == ("paused" if decision.action == "pause" else "handled_error")
    # The default is unchanged: a retry entry without when_exhausted fails the run when spent.
    plain = process.model_copy(
        update={"handled_errors": [handled.model_copy(update={"when_exhausted": "fail_run"})]}
    )
    assert decide(plain, {"Gone"}, attempt).action == ("retry" if attempt <= retries else "fail")


@pytest.mark.parametrize("action", ["skip_record", "fail_run"])
def test_when_exhausted_belongs_to_retry_entries_only(action: str) -> None:
    with pytest.raises(ValidationError, match="'when_exhausted' is for action 'retry' only"):
        HandledError(match="X", action=action, when_exhausted="pause", message="x")  # type: ignore[arg-type]
