"""The run commands through the real entry point (``python -m orgplane``), as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.surfaces.cli_helpers import orgplane

from .conftest import records, write_org


def cli(org_file: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return orgplane("--org", str(org_file), "--db", db_url, *args)


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(records(20, fail={12: {"draft": "NEW-CODE:1"}})))
    return path


def test_start_status_resume_list(tmp_path: Path, db_url: str, batch_file: Path) -> None:
    org_file = write_org(tmp_path / "org")
    started = cli(org_file, db_url, "run", "start", "pipe", str(batch_file), "--batch", "b1")
    assert started.returncode == 1, started.stderr
    assert "stopped at record 12, stage draft" in started.stdout
    assert "Traceback" not in started.stderr

    status = cli(org_file, db_url, "run", "status", "pipe:b1", "--json")
    assert status.returncode == 1
    data = json.loads(status.stdout)
    assert data["state"] == "failed" and data["records_total"] == 20
    assert data["stages"]["validate"]["done"] == 20
    assert data["stages"]["draft"] == {
        "kind": "effectful", "done": 11, "failed": 1, "skipped": 0, "in_doubt": 0,
        "held": 0, "handed_off": 0, "running": 0, "pending": 8,
    }  # fmt: skip
    assert data["stopped"]["record"] == "12" and data["stopped"]["code"] == "NEW-CODE"
    assert data["resume"].endswith("run resume pipe:b1")
    assert data["started_at"].endswith("+00:00")

    listed = json.loads(cli(org_file, db_url, "run", "list", "--json").stdout)
    assert [(r["run_id"], r["state"]) for r in listed["runs"]] == [("pipe:b1", "failed")]

    # An unhandled error holds the run until it is classified or the resume is forced.
    refused = cli(org_file, db_url, "run", "resume", "pipe:b1", "--json")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "unhandled error NEW-CODE at record 12" in refused.stderr
    assert "--reason" in refused.stderr and "handled_errors of pipe" in refused.stderr
    resumed = cli(org_file, db_url, "run", "resume", "pipe:b1", "--json", "--reason", "stage fixed")
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads(resumed.stdout)
    assert after["state"] == "finished" and after["resume"] is None
    assert after["stages"]["send"]["done"] == 20


def test_checkpoint_command_for_a_shell_agent(tmp_path: Path, db_url: str) -> None:
    org_file = write_org(tmp_path / "org")
    batch = tmp_path / "b.csv"
    batch.write_text("id,url\na,http://x\nb,http://y\n")
    started = cli(org_file, db_url, "run", "start", "manual", str(batch), "--batch", "m1", "--json")
    assert started.returncode == 0 and json.loads(started.stdout)["state"] == "running"
    out = cli(
        org_file, db_url, "checkpoint", "manual:m1", "a", "fetch", "--done", "--output", '{"n": 1}'
    )
    assert out.returncode == 0, out.stderr
    out = cli(org_file, db_url, "checkpoint", "manual:m1", "a", "post", "--done", "--json")
    assert json.loads(out.stdout)["stages"]["post"]["done"] == 1
    out = cli(org_file, db_url, "checkpoint", "manual:m1", "b", "fetch", "--failed", "E-ODD")
    assert out.returncode == 1 and "stopped at record b, stage fetch" in out.stdout
    refused = cli(org_file, db_url, "run", "resume", "manual:m1", "--json")
    assert refused.returncode == 2 and "unhandled error E-ODD" in refused.stderr
    resumed = cli(org_file, db_url, "run", "resume", "manual:m1", "--json", "--reason", "odd")
    assert json.loads(resumed.stdout)["state"] == "running"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "status", "nope:1"], "no run 'nope:1'"),
        (["run", "start", "nope", "b.json"], "no process 'nope'"),
        (["run", "start", "pipe", "missing.json"], "cannot read the batch file"),
        (["checkpoint", "pipe:x", "1", "validate"], "exactly one of --done"),
        (
            ["checkpoint", "pipe:x", "1", "validate", "--done", "--output", "{x"],
            "--output is not JSON",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    org_file = write_org(tmp_path / "org")
    result = orgplane("--org", str(org_file), *args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args", [["run", "--help"], ["--org", "no-such-org.yaml", "run", "list"], ["run", "nope"]]
)
def test_python_dash_m_is_the_same_program(args: list[str], tmp_path: Path) -> None:
    """``python -m orgplane`` (a real subprocess) and the entry point give the same output and
    the same exit code: help, a missing org file (2), an unknown command (2)."""
    real = subprocess.run(
        [sys.executable, "-m", "orgplane", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")},
            "COLUMNS": "80",
        },
    )
    entry = orgplane(*args, cwd=tmp_path)
    # Help is wrapped to the terminal's width, which differs between the two: compare its words.
    assert (real.returncode, real.stdout.split()[:40], real.stderr) == (
        entry.returncode,
        entry.stdout.split()[:40],
        entry.stderr,
    )
    assert real.returncode == (0 if "--help" in args else 2)
    assert "Traceback" not in real.stderr
