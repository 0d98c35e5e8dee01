"""``init``, ``validate`` and ``chart`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

from tests.org.test_loader import TEN_MISTAKES
from tests.surfaces.cli_helpers import orgplane


def test_init_writes_a_valid_example_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = orgplane("init", str(tmp_path / "acme"))
    assert result.returncode == 0, result.stderr
    org_file = tmp_path / "acme" / "org.yaml"
    assert org_file.exists()
    assert "# orgplane example" in org_file.read_text()  # the comments come along

    again = orgplane("init", str(tmp_path / "acme"))
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr

    unknown = orgplane("init", str(tmp_path / "other"), "--example", "bakery")
    assert unknown.returncode == 2
    assert "choose one of: agency" in unknown.stderr


def test_validate_example_exits_zero(agency: Path) -> None:
    result = orgplane("--org", str(agency), "validate")
    assert result.returncode == 0, result.stderr
    assert "Sneeze It" in result.stdout
    as_json = json.loads(orgplane("--org", str(agency), "validate", "--json").stdout)
    assert as_json["ok"] is True and as_json["seats"] == 14


def test_validate_reports_every_mistake_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(TEN_MISTAKES)
    result = orgplane("--org", str(path), "validate")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert len(lines) == 10, result.stderr
    assert all(line.split(":")[1].isdigit() for line in lines)
    assert "10 problems" in result.stderr
    assert "Traceback" not in result.stderr

    as_json = orgplane("--org", str(path), "validate", "--json")
    assert as_json.returncode == 2
    problems = json.loads(as_json.stdout)["problems"]
    assert len(problems) == 10
    assert {"path", "line", "message"} <= set(problems[0])


def test_org_comes_from_the_environment(agency: Path) -> None:
    result = orgplane("validate", env={"ORGPLANE_ORG": str(agency)})
    assert result.returncode == 0, result.stderr


def test_missing_org_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = orgplane("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "org.yaml:0: no org file here" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_is_one_line_exit_2(agency: Path) -> None:
    result = orgplane("--org", str(agency), "--db", "mongodb://x", "demo")
    assert result.returncode == 2
    assert "only SQLite and PostgreSQL are supported" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_exit_2(agency: Path) -> None:
    result = orgplane("--db", "postgresql://nobody@127.0.0.1:1/none", "demo")
    assert result.returncode == 2
    assert "--db / ORGPLANE_DB" in result.stderr and "Connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_chart_json_shape(agency: Path) -> None:
    result = orgplane("--org", str(agency), "chart", "--json")
    assert result.returncode == 0, result.stderr
    chart = json.loads(result.stdout)
    assert chart["org"] == "Sneeze It"
    (ceo,) = chart["seats"]
    assert ceo["id"] == "ceo" and ceo["kind"] == "human"

    def find(nodes: list[dict], seat_id: str) -> dict:  # type: ignore[type-arg]
        for node in nodes:
            if node["id"] == seat_id:
                return node
            found = find(node["reports"], seat_id)
            if found:
                return found
        return {}

    radar = find(chart["seats"], "radar")
    assert radar["kind"] == "agent" and radar["owner"] == "ceo"
    jeff = find(chart["seats"], "jeff")
    assert jeff["status"] == "retired"
    assert jeff["redistributed"] == {
        "pacing-monitor": "dash",
        "blind-spot-analysis": "dan",
        "budget-reconciliation": "crystal",
    }
    dash = find(chart["seats"], "dash")
    (analysis,) = [o for o in dash["outputs"] if o["id"] == "dash-analysis"]
    assert analysis["critical"] and analysis["has_coverage"]
    assert analysis["consumers"]["radar"] == "skip_and_flag"
    assert chart["summary"]["critical_outputs"] == chart["summary"]["critical_outputs_covered"] == 3


def test_chart_marks_a_critical_output_without_coverage(agency: Path) -> None:
    text = agency.read_text().replace("    coverage_seat: dan", "")
    agency.write_text(text)
    result = orgplane("--org", str(agency), "chart")
    assert result.returncode == 0, result.stderr
    assert "critical, NO coverage protocol" in result.stdout
    chart = json.loads(orgplane("--org", str(agency), "chart", "--json").stdout)
    assert chart["summary"]["critical_outputs_covered"] == 2


def test_no_command_shows_help() -> None:
    result = orgplane()
    assert result.returncode in (0, 2)
    assert "validate" in result.stdout + result.stderr
