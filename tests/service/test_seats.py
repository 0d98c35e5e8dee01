"""Seats as every surface shows them: the list, and one seat with its inputs and protocols,
processes, reporting line, open decisions and effective SOPs (own, then inherited)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgplane.errors import NotFoundError
from orgplane.service import decisions, failures
from orgplane.service.seats import list_seats, show_seat
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


def test_a_seat_shows_its_own_sops_then_those_of_the_people_above_it(session: Session) -> None:
    dash = show_seat(session, "dash")
    assert dash.reporting_line == ["coo", "ceo"]
    org = session.org()
    assert [s.text for s in dash.sops] == org.effective_sops("dash")
    assert [s.from_seat for s in dash.sops] == ["coo", "coo", "ceo"]
    assert all(s.inherited for s in dash.sops)
    coo = show_seat(session, "coo")
    assert [(s.from_seat, s.inherited) for s in coo.sops] == [
        ("coo", False),
        ("coo", False),
        ("ceo", True),
    ]


def test_a_seat_shows_its_inputs_processes_and_open_decisions(session: Session) -> None:
    radar = show_seat(session, "radar")
    pepper_input = next(i for i in radar.inputs if i.output == "pepper-triage")
    assert (pepper_input.protocol, pepper_input.escalate_to) == ("escalate", "client-lead")
    assert pepper_input.producer == "pepper" and pepper_input.critical
    nick = show_seat(session, "nick")
    (process,) = nick.processes
    assert process.stages == ["validate", "draft"] and process.effectful_stages == ["draft"]
    assert not process.agent_run  # the example's Nick has stage code
    assert nick.open_decisions == []
    failures.report_failure(
        session, "crash", "process", "nick-prospecting", "the worker died", actor="nick"
    )
    decisions.decide_pending(session)
    (decision,) = show_seat(session, "nick").open_decisions
    assert decision.seat_id == "nick" and decision.subject_id == "nick-prospecting"


def test_an_unknown_seat_is_not_found_with_the_seats_there_are(session: Session) -> None:
    with pytest.raises(NotFoundError, match="use one of: amanda"):
        show_seat(session, "nobody")
