"""The readiness lint finds each unanswered question, and nothing in the shipped example."""

from __future__ import annotations

from pathlib import Path

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.org.readiness import readiness_gaps
from tests.surfaces.cli_helpers import orgplane


def test_the_example_is_ready(agency: Path) -> None:
    assert readiness_gaps(load_org(agency)) == []


def test_each_gap_is_found(agency: Path) -> None:
    def loosen(document: dict) -> None:  # type: ignore[type-arg]
        nick = document["processes"]["nick-prospecting"]
        del nick["urgency"]
        del nick["handled_errors"]
        nick["module"] = "stages/missing.py"
        pepper = document["processes"]["pepper-triage"]
        pepper["human_when_failing"] = pepper["human_when_running"]
        del document["outputs"]["dash-analysis"]["coverage_seat"]
        del document["seats"]["radar"]["inputs"]["arin-coaching"]
        document["seats"]["dan"]["capabilities"] = []
        document["seats"]["jeff"]["retired"]["redistributed"]["blind-spot-analysis"] = "dash"
        document["seats"]["dash"]["capabilities"].append("blind-spot-analysis")

    gaps = readiness_gaps(edit_org_file(agency, loosen))
    found = {(g.subject_id, g.question, g.message.split(";")[0]) for g in gaps}
    assert found == {
        (
            "nick-prospecting",
            "checkpoints",
            "process 'nick-prospecting' names module 'stages/missing.py', which is not there",
        ),
        (
            "nick-prospecting",
            "decision",
            "process 'nick-prospecting' has no urgency tier, so whether to wait or escalate is decided fresh at every failure",
        ),
        (
            "nick-prospecting",
            "learning",
            "process 'nick-prospecting' handles no known error, so every failure stops it",
        ),
        (
            "pepper-triage",
            "decision",
            "process 'pepper-triage' gives the person the same job whether the agent runs or fails: the work was not really delegated",
        ),
        ("dash-analysis", "downstream", "critical output 'dash-analysis' names no coverage_seat"),
        (
            "arin-coaching",
            "downstream",
            "nobody declares 'arin-coaching' as an input, so nobody has said what to do when it is stale",
        ),
        ("dan", "seat", "agent seat 'dan' holds no capability: it may be running on empty"),
    }


def test_audit_readiness_command(agency: Path) -> None:
    ready = orgplane("--org", str(agency), "audit", "readiness")
    assert ready.returncode == 0, ready.stderr
    text = agency.read_text().replace("    urgency: high\n", "")
    agency.write_text(text)
    result = orgplane("--org", str(agency), "audit", "readiness", "--json")
    assert result.returncode == 1
    assert (
        '"subject_id": "pepper-triage"' in result.stdout
        and '"question": "decision"' in result.stdout
    )
