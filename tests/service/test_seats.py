"""The seats as a flat list, filtered by kind and status (one seat in full is tested with
service/health.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgplane.service.seats import list_seats
from orgplane.service.session import Session


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        yield session


def test_list_seats_filters_by_kind_and_status(session: Session) -> None:
    every = list_seats(session).seats
    assert [s.id for s in every] == list(session.org().seats)
    agents = list_seats(session, kind="agent", status="active").seats
    assert {s.id for s in agents} == {
        s.id for s in session.org().active_seats() if s.kind == "agent"
    }
    assert [s.id for s in list_seats(session, status="retired").seats] == ["jeff"]
    radar = next(s for s in every if s.id == "radar")
    assert radar.inputs["nick-pipeline"] == "use_last_good"
    assert "nick-pipeline" in next(s for s in every if s.id == "nick").outputs
