"""The human queue and the delegation ledger through the service and the CLI, on the agency
example: who may list and resolve what, the checkpoint --handoff flag, exit codes and verbatim
text, and readiness naming a process that is not really delegated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgplane.errors import PermissionDenied, UsageError
from orgplane.service import handoffs, org, runs
from orgplane.service.delegation import delegation
from orgplane.service.session import Session
from tests.surfaces.cli_helpers import orgplane

RUN = "pepper-triage:p1"


@pytest.fixture
def session(agency: Path, db_url: str, tmp_path: Path) -> Iterator[Session]:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}, {"id": "m3"}]))
    with Session.open(agency, db_url) as session:
        runs.start_run(session, "pepper-triage", batch, batch="p1")
        yield session


def hand_off(session: Session, record: str, actor: str | None = "pepper") -> None:
    runs.checkpoint(
        session,
        RUN,
        record,
        "fetch",
        handoff="client-lead",
        reason="fits [bold]no[/bold] bucket",
        actor=actor,
    )


def test_a_seat_lists_and_resolves_only_its_own_queue(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        hand_off(session, "m1", actor="dash")  # not dash's run
    hand_off(session, "m1")
    hand_off(session, "m2")
    mine = handoffs.queue(session, actor="client-lead")
    assert mine.seat == "client-lead" and [i.record for i in mine.items] == ["m1", "m2"]
    assert mine.items[0].from_seat == "pepper" and mine.items[0].stage == "fetch"
    assert handoffs.queue(session, "coo").items == []
    with pytest.raises(PermissionDenied):
        handoffs.queue(session, "client-lead", actor="coo")
    first = mine.items[0].id
    for other in ("coo", "pepper", "nobody"):
        with pytest.raises(PermissionDenied):
            handoffs.resolve_handoff(session, first, "done", actor=other)
    done = handoffs.resolve_handoff(session, first, "done", note="called them", actor="client-lead")
    assert (done.outcome, done.resolved_by, done.resume) == ("done", "client-lead", None)
    back = handoffs.resolve_handoff(
        session, mine.items[1].id, "return", output='{"id": "m2", "bucket": "vip"}'
    )
    assert back.run_state == "running" and back.resume is not None
    status = runs.run_status(session, RUN)
    assert status.stages["fetch"].done == 1 and status.stages["fetch"].handed_off == 1
    with pytest.raises(UsageError, match="give done or return"):
        handoffs.resolve_handoff(session, first, "maybe")


def test_a_process_measured_as_not_really_delegated_is_a_readiness_gap(session: Session) -> None:
    assert not any("not really delegated" in g.message for g in org.readiness(session).gaps)
    runs.checkpoint(session, RUN, "m1", "fetch", failed="IMAP-DOWN")  # unhandled: run fails
    runs.checkpoint(session, RUN, "m1", "fetch", done=True, output='{"id": "m1"}')
    ledger = delegation(session)
    triage = next(p for p in ledger.processes if p.process_id == "pepper-triage")
    assert (triage.failures, triage.person_after_failure) == (1, 1)
    assert ledger.not_really_delegated == ["pepper-triage"]
    gaps = [g for g in org.readiness(session).gaps if "not really delegated" in g.message]
    assert [(g.subject_id, g.question) for g in gaps] == [("pepper-triage", "decision")]


def test_the_cli(agency: Path, tmp_path: Path) -> None:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}]))
    at = ("--org", str(agency))
    orgplane(*at, "run", "start", "pepper-triage", str(batch), "--batch", "p1")
    refused = orgplane(
        *at, "checkpoint", RUN, "m1", "fetch", "--handoff", "pepper", "--reason", "x"
    )
    assert refused.returncode == 2 and "'pepper' is an agent seat" in refused.stderr
    assert "Traceback" not in refused.stderr
    alone = orgplane(*at, "checkpoint", RUN, "m1", "fetch", "--handoff", "client-lead")
    assert alone.returncode == 2 and "--reason" in alone.stderr
    made = orgplane(
        *at, "checkpoint", RUN, "m1", "fetch", "--handoff", "client-lead", "--reason", "[red]odd"
    )
    assert made.returncode == 0, made.stderr
    listed = orgplane(*at, "queue", "client-lead")
    assert listed.returncode == 0 and "[red]odd" in listed.stdout and "m1" in listed.stdout
    data = json.loads(orgplane(*at, "queue", "--json").stdout)
    assert [i["reason"] for i in data["items"]] == ["[red]odd"]
    assert orgplane(*at, "queue", "no-such-seat").returncode == 2
    bad = orgplane(*at, "queue", "resolve", str(data["items"][0]["id"]), "--outcome", "return")
    assert bad.returncode == 2 and "--output" in bad.stderr
    ok = orgplane(
        *at, "queue", "resolve", str(data["items"][0]["id"]), "--outcome", "return",
        "--output", '{"id": "m1"}', "--json",
    )  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout)["outcome"] == "return"
    ledger = orgplane(*at, "seats", "delegation", "--since", "2026-01-01", "--json")
    assert ledger.returncode == 0
    assert {p["process_id"] for p in json.loads(ledger.stdout)["processes"]} >= {"pepper-triage"}
    assert orgplane(*at, "seats", "delegation", "--since", "June").returncode == 2
    text = orgplane(*at, "seats", "delegation")
    assert text.returncode == 0 and "client-lead" in text.stdout


@given(st.text(max_size=30))
def test_since_is_a_date_or_one_usage_error(value: str) -> None:
    from datetime import UTC, datetime

    from orgplane.service.delegation import _since

    end = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        start = _since(value, end)
    except UsageError as exc:
        assert "--since" in str(exc) and "\n" not in str(exc)
    else:
        assert start <= end and start.tzinfo is UTC
