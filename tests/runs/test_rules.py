"""The pure rules of runs that surfaces call: checkpoint flags, the resume command, the progress
baseline, store-only processes and the finish-or-hold of a run."""

from __future__ import annotations

import pytest

from orgplane.errors import UsageError
from orgplane.org.models import Org
from orgplane.runs import Process
from orgplane.runs.manual import checkpoint_action
from orgplane.runs.process import stores_only
from orgplane.runs.statements import RunState
from orgplane.runs.status import next_run_state, progress_baseline, resume_command

from .conftest import records


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"done": True, "failed": None, "redo": False, "output_given": True}, "done"),
        ({"done": False, "failed": "LM-500", "redo": False}, "failed"),
        ({"done": False, "failed": None, "redo": True}, "redo"),
        ({"done": True, "failed": None, "redo": True}, "exactly one"),
        ({"done": False, "failed": None, "redo": False}, "exactly one"),
        ({"done": False, "failed": None, "redo": True, "output_given": True}, "goes with --done"),
        ({"done": False, "failed": " ", "redo": False}, "needs the error code"),
    ],
)
def test_checkpoint_flags(flags: dict[str, object], expected: str) -> None:
    if expected in ("done", "failed", "redo"):
        assert checkpoint_action(**flags) == expected  # type: ignore[arg-type]
    else:
        with pytest.raises(UsageError, match=expected):
            checkpoint_action(**flags)  # type: ignore[arg-type]


def test_one_resume_command() -> None:
    assert resume_command("p:b") == "orgplane run resume p:b"
    assert resume_command("p:b", "/x/org.yaml") == "orgplane --org /x/org.yaml run resume p:b"
    # Quoted as Session.command quotes the checkpoint commands printed beside it.
    assert (
        resume_command("p:b", "/my org/org.yaml")
        == "orgplane --org '/my org/org.yaml' run resume p:b"
    )


@pytest.mark.parametrize(
    ("current", "active", "held", "new"),
    [
        ("running", 0, 0, RunState.FINISHED),
        ("running", 0, 2, RunState.HELD),
        ("running", 3, 0, None),
        ("failed", 0, 0, None),
        ("held", 1, 0, RunState.STOPPED),
        ("finished", 1, 1, RunState.STOPPED),
        ("stopped", 1, 0, None),
    ],
)
def test_finish_or_hold(current: str, active: int, held: int, new: RunState | None) -> None:
    assert next_run_state(current, active, held) == new


def test_progress_baseline_and_store_only(pipe: Process, org: Org) -> None:
    status = pipe.run(records(4, fail={2: {"draft": "BAD"}, 3: {"send": "HUMAN"}}), batch="b")
    assert status.state == "held"
    assert progress_baseline(status) == 4  # 2 done, 1 skipped, 1 held for a person
    assert not stores_only(org.processes["pipe"]) and stores_only(org.processes["manual"])
