"""Seat health and a seat in full, read from files and the store with nothing recorded: a
stale output makes its producer stale, a broken one or a stopped run failing, retired stays
retired, and a seat whose output nobody covers is named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orgplane.errors import NotFoundError
from orgplane.org.loader import load_org
from orgplane.service.health import current_findings, seat_health, show_seat
from orgplane.service.runs import checkpoint, start_run
from orgplane.service.session import Session
from orgplane.watch.sample import write_sample_state
from tests.service.test_reads_write_nothing import dump, write_transactions
from tests.surfaces.web.conftest import batch_file, make_stale


def _health(session: Session) -> dict[str, str]:
    return {s.seat: s.health for s in seat_health(session).seats}


def test_fresh_stale_failing_and_retired(agency: Path, db_url: str, tmp_path: Path) -> None:
    write_sample_state(load_org(agency), datetime.now(UTC))
    with Session.open(agency, db_url) as session:
        health = _health(session)
        assert health["jeff"] == "retired"
        # Tally's pushes depend on the hour (no metric is pushed here); the rest is fresh.
        assert {h for seat, h in health.items() if seat not in ("jeff", "tally")} == {"fresh"}
        make_stale(agency, "dash-analysis")
        (agency.parent / "state" / "crystal.json").write_text("{not json")
        report = seat_health(session)
        states = {s.seat: s for s in report.seats}
        assert states["dash"].health == "stale"
        assert states["dash"].reasons[0].startswith("output dash-analysis is stale")
        assert states["crystal"].health == "failing"
        assert states["crystal"].reasons[0].startswith("output crystal-billing is corrupt")
        assert report.counts["stale"] == 1 and report.counts["retired"] == 1
        assert _health(session)["pepper"] == "fresh"
        run = start_run(session, "pepper-triage", batch_file(tmp_path, 2), batch="b")
        checkpoint(session, run.run_id, "m1", "fetch", failed="MailboxGone")
        pepper = next(s for s in seat_health(session).seats if s.seat == "pepper")
        assert pepper.health == "failing"
        assert pepper.reasons == [f"run {run.run_id} of pepper-triage is failed"]


def test_a_seat_in_full(agency: Path, db_url: str) -> None:
    write_sample_state(load_org(agency), datetime.now(UTC))
    with Session.open(agency, db_url) as session:
        nick = show_seat(session, "nick")
        assert (nick.kind, nick.owner, nick.reports_to) == ("agent", "ceo", "ceo")
        assert [o.id for o in nick.outputs] == ["nick-pipeline"]
        assert nick.outputs[0].finding is not None and nick.outputs[0].finding.status == "fresh"
        assert [p.id for p in nick.processes] == ["nick-prospecting"]
        # Its own SOPs (none) and those of the human seats above it (the founder's).
        assert nick.sops == load_org(agency).effective_sops("nick") and nick.sops
        radar = show_seat(session, "radar")
        assert {i.output for i in radar.inputs} >= {"dash-analysis", "pepper-triage"}
        assert next(i for i in radar.inputs if i.output == "pepper-triage").escalate_to == (
            "client-lead"
        )
        assert show_seat(session, "coo").reports
        with pytest.raises(NotFoundError):
            show_seat(session, "nobody")


def test_an_output_nobody_covers_is_named(agency: Path, db_url: str) -> None:
    text = agency.read_text()
    arin = "    capabilities: [call-coaching]\n    inputs:\n      ccm-stats: skip_and_flag"
    assert arin in text
    agency.write_text(text.replace(arin, "    capabilities: [call-coaching]\n    #", 1))
    with Session.open(agency, db_url) as session:
        dash = next(s for s in seat_health(session).seats if s.seat == "dash")
    assert dash.uncovered_outputs == ["ccm-stats"]


def test_health_and_findings_write_nothing(agency: Path, db_url: str) -> None:
    write_sample_state(load_org(agency), datetime.now(UTC))
    make_stale(agency, "dash-analysis")
    with Session.open(agency, db_url) as session:
        seat_health(session)  # the first use syncs the org: that write is not the read's
        before = dump(db_url)
        with write_transactions() as begun:
            seat_health(session)
            show_seat(session, "dash")
            found = current_findings(session)
        assert begun == [] and dump(db_url) == before
    assert not found.ok and found.findings[0].status == "stale"
    assert found.counts["stale"] == 1
