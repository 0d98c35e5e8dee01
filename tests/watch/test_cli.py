"""The watch commands as a person runs them: real subprocesses, exit codes, one-line errors, and
the JSON shapes documented in docs/watch.md."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from orgplane.store.types import utcnow
from tests.surfaces.cli_helpers import orgplane as run_cli
from tests.watch.conftest import iso, write_state

ORG = """
name: Sneeze It
seats:
  coo: {title: COO, kind: human}
  dash: {title: Analytics, kind: agent, owner: coo, reports_to: coo}
  tally: {title: Scorecard keeper, kind: agent, owner: coo, reports_to: coo}
outputs:
  dash-analysis:
    producer: dash
    location: state/dash.json
    timestamp: generated_at
  dash-notes:
    producer: dash
    format: text
metrics:
  leads-booked: {owner: tally, target: 12}
"""


@pytest.fixture
def org(tmp_path: Path) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(ORG)
    now = utcnow()
    write_state(tmp_path / "state" / "dash.json", json.dumps({"generated_at": iso(now)}), now)
    return path


def orgplane(org: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("--org", str(org), *args, input=stdin)


def test_check_json_exit_codes_and_shape(org: Path) -> None:
    first = orgplane(org, "publish", "dash-notes", stdin="notes for Radar\n")
    assert first.returncode == 0, first.stderr
    assert "published dash-notes" in first.stdout
    pushed = orgplane(org, "metric", "push", "leads-booked", "9")
    assert pushed.returncode == 0, pushed.stderr

    ok = orgplane(org, "check", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] is True
    assert set(report) == {"ok", "checked_at", "counts", "findings", "transitions_recorded"}
    finding = report["findings"][0]
    assert finding["subject_id"] == "dash-analysis" and finding["status"] == "fresh"
    assert {"seat", "reason", "message", "age", "last_good_at", "changed_at", "deadline"} <= set(
        finding
    )

    (org.parent / "state" / "dash.json").write_text('{"generated_at": "2026-13-45"}')
    bad = orgplane(org, "check")
    assert bad.returncode == 1
    assert "corrupt" in bad.stdout and "1 not fresh" in bad.stdout


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("2026-06-21T07:00:00", "has no UTC offset (naive)"),
        ("2026-13-45", "is not a valid time"),
        (iso(utcnow() + timedelta(days=1)), "is in the future"),
    ],
    ids=["naive", "impossible-date", "a-day-ahead"],  # stable ids: the third value is dated
)
def test_metric_push_refuses_a_bad_time_in_one_line(org: Path, at: str, says: str) -> None:
    result = orgplane(org, "metric", "push", "leads-booked", "9", "--at", at)
    assert result.returncode == 2
    assert says in result.stderr
    assert result.stderr.startswith("error: --at ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_scorecard_json(org: Path) -> None:
    at = iso(utcnow() - timedelta(hours=1))
    assert orgplane(org, "metric", "push", "leads-booked", "14", "--at", at).returncode == 0
    result = orgplane(org, "scorecard", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    row = card["metrics"][0]
    assert row["metric"] == "leads-booked"
    assert (row["value"], row["target"], row["met"], row["owner"]) == (14, 12, True, "tally")
    assert row["stale"] is False
    assert row["last_clean_push"].startswith(at[:16])


def test_bad_input_is_exit_2_without_traceback(org: Path) -> None:
    for args in (
        ("heartbeat", "nobody"),
        ("metric", "push", "nope", "1"),
        ("publish", "nope", "--file", str(org)),
        ("watch", "--interval", "500ms"),
        ("heartbeat", "dash-analysis", "--start", "--fail"),
    ):
        result = orgplane(org, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: "), result.stderr


def test_heartbeat_feeds_check(org: Path) -> None:
    assert orgplane(org, "heartbeat", "dash-analysis", "--fail").returncode == 0
    result = orgplane(org, "check", "--json")
    beats = [f for f in json.loads(result.stdout)["findings"] if f["subject_kind"] == "heartbeat"]
    assert [(b["subject_id"], b["status"]) for b in beats] == [("dash-analysis", "failed")]
    assert result.returncode == 1


def test_init_leaves_a_folder_whose_outputs_are_fresh(tmp_path: Path) -> None:
    folder = tmp_path / "agency"
    made = subprocess.run(
        [sys.executable, "-m", "orgplane", "init", str(folder)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    result = orgplane(folder / "org.yaml", "check", "--json")
    outputs = [f for f in json.loads(result.stdout)["findings"] if f["subject_kind"] == "output"]
    assert len(outputs) == 7
    assert {f["status"] for f in outputs} == {"fresh"}
