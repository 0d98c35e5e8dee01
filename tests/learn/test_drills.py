"""Drills: each scenario through the real detection and decision code in a scratch copy, scored
against the response the org declares; only the scores reach the live store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from orgplane.errors import UsageError
from orgplane.learn.drills import SCENARIOS, scenario_names, subjects
from orgplane.org.loader import load_org
from orgplane.service.drills import run_drill
from orgplane.service.gate import gate
from orgplane.service.org import readiness
from orgplane.service.session import Session
from orgplane.store.engine import open_store
from orgplane.store.tables import metadata
from tests.surfaces.cli_helpers import orgplane


def counts(url: str) -> dict[str, int]:
    store = open_store(url)
    try:
        with store.read() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
    finally:
        store.dispose()


def remove_lines(org_file: Path, *lines: str) -> None:
    text = org_file.read_text()
    for line in lines:
        assert line in text, line
        text = text.replace(line, "")
    org_file.write_text(text)


@pytest.mark.slow
@pytest.mark.crash
def test_every_drill_passes_on_the_example_org(agency: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    result = orgplane("--org", str(agency), "--db", url, "drill", "all", "--json", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["failed"] == 0 and not report["gaps"]
    org = load_org(agency)
    ran = {(s["scenario"], s["subject_id"]) for s in report["steps"]}
    for scenario in SCENARIOS:  # every scenario, on every subject it has in the org
        wanted = {(scenario, ident) for _, ident in subjects(org, scenario)}
        assert wanted and wanted <= ran, scenario
    for step in report["steps"]:
        assert step["passed"] and step["steady_before"] and step["steady_after"], step
        assert step["detected"] and step["detect_ms"] is not None, step
        assert (step["chosen_tier"], step["chosen_action"]) == (
            step["expected_tier"],
            step["expected_action"],
        )
        assert step["person_must"]
    by = {(s["scenario"], s["subject_id"]): s for s in report["steps"]}
    crash = by[("crash-mid-batch", "nick-prospecting")]
    assert (crash["chosen_tier"], crash["chosen_action"]) == ("restart", "resume")
    assert crash["told"] == "ceo" and crash["reachable"] is True  # nick's owner, json:// parses
    unknown = by[("unknown-error", "pepper-triage")]
    assert (unknown["chosen_tier"], unknown["told"]) == ("owner-now", "client-lead")
    stale = by[("stale-state", "dash-analysis")]
    assert {r["seat"]: r["given"] for r in stale["readers"]} == {
        "radar": "nothing",
        "dan": "last_good",
    }
    assert stale["told"] is None  # skip_and_flag tells nobody
    # The live store holds the scores and nothing else of the drill.
    after = counts(url)
    assert after["drills"] == len(report["steps"])
    for table in (
        "events",
        "decisions",
        "runs",
        "run_records",
        "notifications",
        "gate_answers",
        "incidents",
    ):
        assert after[table] == 0, table


def test_the_live_store_gains_only_drill_rows(agency: Path, db_url: str) -> None:
    with Session.open(org=agency, db=db_url) as session:
        session.store()
        before = counts(db_url)
        report = run_drill(session, "stale-state", subject="dash-analysis")
        report_run = run_drill(session, "unknown-error", subject="tally-push")
    assert report.ok and report_run.ok, [s.failures for s in report.steps + report_run.steps]
    after = counts(db_url)
    changed = {t for t in after if after[t] != before[t]}
    assert changed == {"drills"}
    assert after["drills"] - before["drills"] == 2


def test_removing_a_coverage_protocol_makes_stale_state_fail_naming_the_gap(
    agency: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ok = orgplane(
        "--org", str(agency), "--db", url, "drill", "stale-state", "--subject", "ccm-stats"
    )
    assert ok.returncode == 0, ok.stdout
    # Arin is the only reader of ccm-stats: without its protocol nobody says what to do.
    remove_lines(
        agency,
        "    inputs:\n      ccm-stats: skip_and_flag              # no statistics, no coaching draft: flag the gap\n",
    )
    result = orgplane(
        "--org", str(agency), "--db", url, "drill", "stale-state", "--subject", "ccm-stats"
    )
    assert result.returncode == 1
    flat = " ".join(result.stdout.split())
    assert "nobody reads ccm-stats with a coverage protocol" in flat
    assert "add inputs: {ccm-stats: skip_and_flag}" in flat


def test_a_reader_that_drops_its_protocol_is_named(agency: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with Session.open(org=agency, db=url) as session:
        gate(session, "radar")  # radar reads dash-analysis through the gate
    remove_lines(
        agency,
        "      dash-analysis: skip_and_flag          # skip the day's analysis, flag it, never use bad data\n",
    )
    result = orgplane(
        "--org",
        str(agency),
        "--db",
        url,
        "drill",
        "stale-state",
        "--subject",
        "dash-analysis",
        "--json",
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["gaps"] == [
        "radar reads dash-analysis with no coverage protocol: add inputs: "
        "{dash-analysis: skip_and_flag} to seat radar"
    ]
    step = report["steps"][0]
    assert step["detected"] and step["decision_matches"]  # detection and decision still work
    assert [r["seat"] for r in step["readers"]] == ["dan"]


def test_no_tier_for_the_failure_is_a_gap(agency: Path, tmp_path: Path) -> None:
    remove_lines(
        agency, "    kinds: [stale, corrupt, missing, invalid, frozen, missed_run, empty_input]\n"
    )
    with Session.open(org=agency, db=f"sqlite:///{tmp_path / 'live.db'}") as session:
        report = run_drill(session, "stale-state", subject="ccm-stats")
    assert not report.ok
    step = report.steps[0]
    assert step.detected and step.expected_tier is None
    assert step.chosen_action == "escalate"  # the engine's answer to an undeclared response
    assert any("no urgency tier applies to a stale of output ccm-stats" in g for g in step.gaps)


def test_bad_input_exits_2(agency: Path) -> None:
    unknown = orgplane("--org", str(agency), "drill", "fire-drill")
    assert unknown.returncode == 2
    assert all(name in unknown.stderr for name in SCENARIOS)
    subject = orgplane("--org", str(agency), "drill", "stale-state", "--subject", "nobody")
    assert subject.returncode == 2 and "dash-analysis" in subject.stderr
    assert "Traceback" not in unknown.stderr + subject.stderr


@given(st.text(max_size=30))
def test_scenario_names_accept_exactly_the_scenarios(text: str) -> None:
    if text in SCENARIOS:
        assert scenario_names(text) == [text]
    elif text == "all":
        assert scenario_names(text) == list(SCENARIOS)
    else:
        with pytest.raises(UsageError) as raised:
            scenario_names(text)
        assert all(name in str(raised.value) for name in SCENARIOS)


def test_readiness_shows_drills_and_what_was_never_drilled(agency: Path, tmp_path: Path) -> None:
    with Session.open(org=agency, db=f"sqlite:///{tmp_path / 'live.db'}") as session:
        before = readiness(session)
        assert before.ok and not before.drills
        never = {(u.subject_kind, u.subject_id) for u in before.undrilled}
        assert {("process", p) for p in session.org().processes} <= never
        run_drill(session, "unknown-error", subject="tally-push")
        after = readiness(session)
    assert after.ok
    assert [(d.scenario, d.subject_id, d.passed) for d in after.drills] == [
        ("unknown-error", "tally-push", True)
    ]
    left = {(u.subject_kind, u.subject_id) for u in after.undrilled}
    assert ("process", "tally-push") not in left
    assert ("process", "nick-prospecting") in left
    assert any(
        "drill crash-mid-batch --subject nick-prospecting" in u.message for u in after.undrilled
    )


def test_a_failed_drill_is_a_readiness_gap(agency: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    remove_lines(
        agency,
        "    inputs:\n      ccm-stats: skip_and_flag              # no statistics, no coaching draft: flag the gap\n",
    )
    with Session.open(org=agency, db=url) as session:
        run_drill(session, "stale-state", subject="ccm-stats")
    result = orgplane("--org", str(agency), "--db", url, "audit", "readiness", "--json")
    assert result.returncode == 1
    gaps: list[dict[str, Any]] = json.loads(result.stdout)["gaps"]
    drilled = [g for g in gaps if g["question"] == "drill"]
    assert [g["subject_id"] for g in drilled] == ["ccm-stats"]
    assert "drill stale-state --subject ccm-stats" in drilled[0]["message"]


@pytest.mark.slow
@pytest.mark.crash
def test_crash_mid_batch_kills_a_real_worker_and_resumes(agency: Path, tmp_path: Path) -> None:
    with Session.open(org=agency, db=f"sqlite:///{tmp_path / 'live.db'}") as session:
        report = run_drill(session, "crash-mid-batch", subject="nick-prospecting")
    step = report.steps[0]
    assert step.passed, step.failures
    assert "SIGKILL" in step.injected and "sweep" in step.detected_by
    assert "none twice" in " ".join(step.notes)
    assert "finished" in step.steady_after_note and "closed" in step.steady_after_note


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("orgplane.db") and not p.name.startswith("live.db")
    }


def test_a_drill_writes_nothing_outside_its_copy(agency: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "arin.json"
    outside.parent.mkdir()
    outside.write_text('{"updated_at": "2026-01-01T00:00:00Z"}')
    text = agency.read_text().replace("location: state/arin.json", f"location: {outside}")
    agency.write_text(text)
    before = folder_snapshot(agency.parent)
    with Session.open(org=agency, db=f"sqlite:///{tmp_path / 'live.db'}") as session:
        report = run_drill(session, "stale-state")
    assert report.ok, [s.failures for s in report.steps]
    assert "arin-coaching" not in {s.subject_id for s in report.steps}
    assert any("output arin-coaching is published or lives outside" in s for s in report.skipped)
    assert outside.read_text() == '{"updated_at": "2026-01-01T00:00:00Z"}'
    assert folder_snapshot(agency.parent) == before  # the live folder's files untouched
