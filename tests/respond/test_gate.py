"""The coverage gate on real state files and publishes, on SQLite and PostgreSQL.

Radar reads six outputs; the test org makes it block on Crystal's billing so all four
protocols are exercised: dash-analysis skip_and_flag, nick-pipeline and tally-kpis
use_last_good, pepper-triage escalate (to client-lead), crystal-billing block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from orgplane.errors import NotFoundError
from orgplane.service import watch
from orgplane.service.gate import GateResult, gate
from orgplane.service.session import Session
from orgplane.store.tables import gate_answers, last_good_files
from orgplane.store.types import utcnow
from tests.surfaces.cli_helpers import orgplane
from tests.watch.conftest import NOW, iso, write_state

STAMPS = {
    "dash-analysis": "generated_at",
    "nick-pipeline": "updated_at",
    "pepper-triage": "updated_at",
    "tally-kpis": "pushed_at",
    "arin-coaching": "updated_at",
    "crystal-billing": "updated_at",
}
FILES = {
    "dash-analysis": "dash",
    "nick-pipeline": "nick",
    "pepper-triage": "pepper",
    "tally-kpis": "tally",
    "arin-coaching": "arin",
    "crystal-billing": "crystal",
}


@pytest.fixture
def org_file(agency: Path) -> Path:
    text = agency.read_text()
    radar_input = "      crystal-billing: skip_and_flag"
    assert radar_input in text
    agency.write_text(text.replace(radar_input, "      crystal-billing: block", 1))
    return agency


@pytest.fixture
def session(org_file: Path, db_url: str) -> Iterator[Session]:
    with Session.open(org_file, db_url) as opened:
        yield opened


def write_inputs(org_file: Path, at: datetime, label: str) -> dict[str, str]:
    """Write every input of Radar with data from ``at``; the texts written, by output."""
    written = {}
    for output, stamp in STAMPS.items():
        body = {stamp: iso(at), "clients": ["Acme Dental"], "total_spend": 10, "label": label}
        text = json.dumps(body)
        write_state(org_file.parent / "state" / f"{FILES[output]}.json", text, at)
        written[output] = text
    return written


def by_output(result: GateResult) -> dict[str, object]:
    return {i.output: i for i in result.inputs}


def test_fresh_inputs_give_their_content_as_current(session: Session, org_file: Path) -> None:
    written = write_inputs(org_file, NOW - timedelta(hours=1), "today")
    result = gate(session, "radar", now=NOW)
    assert result.ok and result.refused == []
    assert {i.output for i in result.inputs} == set(STAMPS)
    for item in result.inputs:
        assert (item.given, item.current, item.status) == ("content", True, "fresh")
        assert item.content == written[item.output]
        assert item.age == "1h 0m" or item.age_seconds == 3600


def test_stale_inputs_get_their_protocol(session: Session, org_file: Path) -> None:
    yesterday = write_inputs(org_file, NOW - timedelta(hours=30), "yesterday")
    gate(session, "radar", now=NOW - timedelta(hours=29))  # all fresh then: last good kept
    write_inputs(org_file, NOW - timedelta(hours=20), "stale today")
    result = gate(session, "radar", now=NOW)
    items = by_output(result)

    dash = items["dash-analysis"]
    assert (dash.given, dash.current, dash.content, dash.status) == (
        "nothing",
        False,
        None,
        "stale",
    )
    assert "seat dash" in dash.reason and "dash-analysis" in dash.reason

    nick = items["nick-pipeline"]
    assert (nick.given, nick.current) == ("last_good", False)
    assert nick.content == yesterday["nick-pipeline"]  # not the stale content on disk now
    assert nick.content_at == NOW - timedelta(hours=30)
    assert nick.age_seconds == 30 * 3600 and "1d 6h old" in nick.reason

    pepper = items["pepper-triage"]
    assert (pepper.given, pepper.escalate_to, pepper.content) == ("refused", "client-lead", None)
    assert "client-lead" in pepper.reason
    crystal = items["crystal-billing"]
    assert (crystal.given, crystal.content) == ("refused", None)
    assert "blocks" in crystal.reason
    assert not result.ok and sorted(result.refused) == ["crystal-billing", "pepper-triage"]

    with session.store().read() as conn:
        rows = conn.execute(select(gate_answers).where(gate_answers.c.answered_at == NOW)).all()
    stored = {r.output_id: r for r in rows}
    assert len(rows) == 6 and all(r.seat_id == "radar" for r in rows)
    assert (stored["dash-analysis"].given, stored["dash-analysis"].current) == ("nothing", False)
    assert stored["nick-pipeline"].given == "last_good"
    assert stored["nick-pipeline"].content_at == NOW - timedelta(hours=30)
    assert stored["pepper-triage"].escalate_to == "client-lead"
    assert "stale" in stored["crystal-billing"].reason


def test_a_check_pass_keeps_the_last_good_copy_of_a_file(session: Session, org_file: Path) -> None:
    fresh = write_inputs(org_file, NOW - timedelta(hours=30), "checked")
    watch.check(session, now=NOW - timedelta(hours=29))
    with session.store().read() as conn:
        kept = set(conn.execute(select(last_good_files.c.output_id)).scalars())
    # only what a seat reads with use_last_good (Radar two, Dan the analysis)
    assert kept == {"dash-analysis", "nick-pipeline", "tally-kpis"}
    write_inputs(org_file, NOW - timedelta(hours=20), "stale")
    nick = by_output(gate(session, "radar", now=NOW))["nick-pipeline"]
    assert (nick.given, nick.content) == ("last_good", fresh["nick-pipeline"])


def test_a_pass_restores_a_missing_copy_of_an_unchanged_file(
    session: Session, org_file: Path
) -> None:
    write_inputs(org_file, NOW - timedelta(hours=2), "checked")
    watch.check(session, now=NOW - timedelta(hours=1))
    with session.store().write() as conn:
        conn.execute(delete(last_good_files).where(last_good_files.c.output_id == "tally-kpis"))
    watch.check(session, now=NOW)  # nothing changed on disk, the copy is missing
    with session.store().read() as conn:
        kept = set(conn.execute(select(last_good_files.c.output_id)).scalars())
    assert "tally-kpis" in kept


def test_missing_input_without_last_good_gives_nothing(session: Session) -> None:
    items = by_output(gate(session, "radar", now=NOW))
    nick = items["nick-pipeline"]
    assert (nick.status, nick.given, nick.content, nick.current) == (
        "missing",
        "nothing",
        None,
        False,
    )
    assert "never seen good" in nick.reason and "no good content was ever kept" in nick.reason


def test_a_published_output_falls_back_to_its_last_fresh_publish(session: Session) -> None:
    now = utcnow()
    good = json.dumps({"updated_at": iso(now - timedelta(hours=1)), "n": 1}).encode()
    assert watch.publish(session, "nick-pipeline", good).finding.status == "fresh"
    for n in range(2, 9):  # more stale publishes than trimming keeps: the fresh one stays
        old = json.dumps({"updated_at": iso(now - timedelta(hours=40 + n)), "n": n}).encode()
        assert watch.publish(session, "nick-pipeline", old).finding.status == "stale"
    nick = by_output(gate(session, "radar"))["nick-pipeline"]
    assert (nick.status, nick.given, nick.current) == ("stale", "last_good", False)
    assert nick.content == good.decode()


def test_gate_answers_are_pruned_by_retention(session: Session, org_file: Path) -> None:
    write_inputs(org_file, NOW - timedelta(hours=1), "today")
    gate(session, "radar", now=NOW - timedelta(days=200))
    gate(session, "radar", now=NOW)
    pruned = watch.prune(session, now=NOW)
    assert pruned.gate_answers == 6
    with session.store().read() as conn:
        left = conn.execute(select(func.min(gate_answers.c.answered_at))).scalar()
        count = conn.execute(select(func.count()).select_from(gate_answers)).scalar()
    assert (left, count) == (NOW, 6)


def test_an_undeclared_seat_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="seat 'nobody'"):
        gate(session, "nobody")


def test_cli_exit_code_follows_refusals(org_file: Path, db_url: str) -> None:
    now = utcnow()
    write_inputs(org_file, now - timedelta(hours=1), "today")
    db = ["--org", str(org_file), "--db", db_url]
    fresh = orgplane(*db, "gate", "dan", "--json")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["inputs"][0]["given"] == "content"
    write_inputs(org_file, now - timedelta(hours=30), "stale")
    refused = orgplane(*db, "gate", "radar")
    assert refused.returncode == 1
    assert "refused" in refused.stdout and "pepper-triage" in refused.stdout
