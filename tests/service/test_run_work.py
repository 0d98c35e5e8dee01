"""What is left of a run for its agent: the unsettled records in batch order, each with its
input and the next stage to record; settled records drop out as checkpoints land."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgplane.errors import NotFoundError
from orgplane.service import runs
from orgplane.service.run_work import run_work
from orgplane.service.session import Session
from tests.surfaces.mcp.helpers import BATCH, agent_run_org


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agent_run_org(agency), db_url) as session:
        yield session


def test_the_next_stage_of_each_record_follows_its_checkpoints(session: Session) -> None:
    batch = session.org_path.parent / "batches" / BATCH
    run = runs.start_run(session, "nick-prospecting", batch, batch="w1")
    work = run_work(session, run.run_id, limit=5)
    assert (work.settled, work.left, work.stages) == (0, 30, ["validate", "draft"])
    assert [r.record for r in work.records] == ["1", "2", "3", "4", "5"]
    assert work.records[0].input["name"] == "Ava Reyes"
    assert all(r.next_stage == "validate" and r.waiting is None for r in work.records)
    runs.checkpoint(session, run.run_id, "1", "validate", done=True)
    runs.checkpoint(session, run.run_id, "1", "draft", done=True, output='{"draft": "d1"}')
    runs.checkpoint(session, run.run_id, "2", "validate", done=True)
    work = run_work(session, run.run_id, limit=2)
    assert (work.settled, work.left) == (1, 29)
    assert [(r.record, r.next_stage) for r in work.records] == [("2", "draft"), ("3", "validate")]
    assert work.records[0].stage_states == {"validate": "done", "draft": "pending"}


def test_an_unknown_run_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="run list"):
        run_work(session, "nick-prospecting:none")
