"""Outputs that are not fresh, read without recording: the same classification as ``check``,
with each output's readers and their protocols, and not one write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from orgplane.service.outputs import output_statuses
from orgplane.service.session import Session
from orgplane.service.watch import check
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state
from tests.service.test_reads_write_nothing import write_transactions


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        yield session


def test_stale_outputs_are_listed_with_their_readers_and_nothing_is_recorded(
    session: Session,
) -> None:
    org = session.org()
    write_sample_state(org, utcnow() - timedelta(days=3))
    session.store()  # synced before looking, so only the use case itself is watched
    with write_transactions() as begun:
        statuses = output_statuses(session)
    assert begun == []
    assert not statuses.ok
    by_id = {o.output: o for o in statuses.outputs}
    nick = by_id["nick-pipeline"]
    assert nick.finding.status == "stale" and nick.producer == "nick"
    assert nick.consumers == {"radar": "use_last_good"}
    assert "stale" in nick.finding.message
    assert sum(statuses.counts.values()) == len(org.outputs)
    assert check(session).transitions_recorded > 0  # the watcher had everything left to record


def test_fresh_outputs_are_left_out_unless_asked_for(session: Session) -> None:
    org = session.org()
    write_sample_state(org, utcnow())
    fresh_files = {o.id for o in org.outputs.values() if o.location and "*" not in o.location}
    statuses = output_statuses(session)
    assert not fresh_files & {o.output for o in statuses.outputs}
    every = output_statuses(session, include_fresh=True)
    assert {o.output for o in every.outputs} == set(org.outputs)
