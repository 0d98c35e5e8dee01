"""``orgplane brief SEAT`` as a person runs it: the three forms, --output, exit codes, errors."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from orgplane.org.loader import load_org
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state
from orgplane.watch.schedules import slot_times, zone
from tests.surfaces.cli_helpers import orgplane


def all_fresh(org_file: Path, db: list[str]) -> None:
    """Fresh sample state for every output, and every metric pushed in its latest slot."""
    org = load_org(org_file)
    now = utcnow()
    write_sample_state(org, now)
    for metric in org.metrics.values():
        assert metric.schedule
        [*_, latest] = slot_times(metric.schedule, zone(org.timezone), now - timedelta(days=1), now)
        at = min(now, latest + timedelta(minutes=1)).isoformat()
        pushed = orgplane(*db, "metric", "push", metric.id, "12", "--at", at)
        assert pushed.returncode == 0, pushed.stderr


def test_markdown_on_stdout_and_exit_1_when_something_is_not_fresh(
    agency: Path, db_url: str
) -> None:
    db = ["--org", str(agency), "--db", db_url]
    result = orgplane(*db, "brief", "radar")  # no state written: every input missing
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("# Briefing for radar (Chief of staff, Radar")
    assert "**0 of 6 inputs fresh**" in result.stdout
    assert "**dash-analysis**: dash-analysis from seat dash (Dash) is missing" in result.stdout


def test_all_fresh_exits_0_and_the_json_forms_agree(agency: Path, db_url: str) -> None:
    db = ["--org", str(agency), "--db", db_url]
    all_fresh(agency, db)
    result = orgplane(*db, "brief", "radar", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["counts"]["fresh"] == 6
    assert [i["output"] for i in data["inputs"]][:2] == ["dash-analysis", "nick-pipeline"]
    assert data["inputs"][0]["summary"] == {
        "source": "field",
        "field": "total_spend",
        "text": "2800.5",
        "note": None,
        "as_of": None,
    }
    same = json.loads(orgplane(*db, "brief", "radar", "--format", "json").stdout)
    assert same["seat"] == data["seat"] and len(same["inputs"]) == 6


def test_html_to_a_file(agency: Path, db_url: str, tmp_path: Path) -> None:
    db = ["--org", str(agency), "--db", db_url]
    target = tmp_path / "out" / "radar.html"
    result = orgplane(*db, "brief", "radar", "--format", "html", "--output", str(target))
    assert result.returncode == 1
    assert "wrote the html briefing of radar to" in result.stdout
    assert "0 of 6 inputs fresh" in result.stdout
    page = target.read_text()
    HTMLParser().feed(page)
    assert page.startswith("<!doctype html>") and "<script" not in page


def test_bad_input_is_one_line_and_exit_2(agency: Path, db_url: str, tmp_path: Path) -> None:
    db = ["--org", str(agency), "--db", db_url]
    cases = {
        ("brief", "nobody"): "seat 'nobody' is not declared",
        ("brief", "ceo"): "seat 'ceo' declares no inputs",
        ("brief", "radar", "--format", "pdf"): "'pdf' is not one of",
        ("brief", "radar", "--json", "--format", "html"): "--json and --format html disagree",
        ("brief", "radar", "--output", str(tmp_path)): "is a folder; give a file path",
    }
    for args, message in cases.items():
        result = orgplane(*db, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""
