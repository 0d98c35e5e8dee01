"""Fix before restart: a run stopped by an unhandled error is held until the error is classified
in org.yaml or the resume is forced with a reason (kept on the incident and the run); a declared
failure and a crash are not held."""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from orgplane.learn.incidents import open_incident_of_run, steps_of
from orgplane.org.edit import add_handled_error
from orgplane.org.loader import load_org
from orgplane.org.models import HandledError
from orgplane.runs.holds import error_names, unclassified
from orgplane.store.engine import open_store
from orgplane.store.tables import forced_resumes
from tests.surfaces.cli_helpers import orgplane

from .conftest import records, write_org


def cli(org_file: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return orgplane("--org", str(org_file), "--db", db_url, *args)


def start_failing(tmp_path: Path, db_url: str, trouble: str) -> Path:
    """The org of the runs suite, with run ``pipe:b1`` stopped at record 12 by ``trouble``."""
    org_file = write_org(tmp_path / "org")
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(records(20, fail={12: {"draft": trouble}})))
    started = cli(org_file, db_url, "run", "start", "pipe", str(batch), "--batch", "b1", "--json")
    assert started.returncode == 1 and json.loads(started.stdout)["state"] == "failed"
    return org_file


@pytest.mark.parametrize("match", ["NEW-CODE", "Exception"])  # its code, or a base class
def test_an_unhandled_error_holds_the_run_until_it_is_in_the_handled_list(
    tmp_path: Path, db_url: str, match: str
) -> None:
    org_file = start_failing(tmp_path, db_url, "NEW-CODE:1")
    refused = cli(org_file, db_url, "run", "resume", "pipe:b1")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    message = " ".join(refused.stderr.split())
    assert "unhandled error NEW-CODE at record 12, stage draft" in message
    assert "handled_errors of pipe" in message
    assert "orgplane run resume pipe:b1 --reason TEXT" in message
    assert not (org_file.parent / "ledger.log").read_text().count("draft 13 ")  # nothing ran

    before = org_file.read_text()
    add_handled_error(
        org_file,
        "pipe",
        HandledError(match=match, action="retry", retries=1, message="new code; retried"),
    )
    diff = list(difflib.unified_diff(before.splitlines(), org_file.read_text().splitlines()))
    added = [line[1:].strip() for line in diff if line.startswith("+") and line[:3] != "+++"]
    removed = [line for line in diff if line.startswith("-") and line[:3] != "---"]
    assert f"- match: {match}" in added and "action: retry" in added and not removed

    resumed = cli(org_file, db_url, "run", "resume", "pipe:b1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "finished"
    store = open_store(db_url)
    try:
        with store.read() as conn:
            assert conn.execute(select(forced_resumes)).all() == []  # classified, not forced
    finally:
        store.dispose()


def test_a_forced_resume_records_its_reason_on_the_incident_and_the_run(
    tmp_path: Path, db_url: str
) -> None:
    org_file = start_failing(tmp_path, db_url, "NEW-CODE:1")
    empty = cli(org_file, db_url, "run", "resume", "pipe:b1", "--reason", "  ")
    assert empty.returncode == 2 and "--reason needs a text" in empty.stderr
    reason = "the vendor fixed their API; classifying it after the run"
    resumed = cli(org_file, db_url, "run", "resume", "pipe:b1", "--reason", reason, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "finished"

    store = open_store(db_url)
    try:
        with store.read() as conn:
            incident = open_incident_of_run(conn, "pipe:b1")
            assert incident is not None and incident["kind"] == "unhandled_error"
            forced = [s for s in steps_of(conn, incident["id"]) if s["step"] == "forced"]
            rows = conn.execute(select(forced_resumes)).all()
    finally:
        store.dispose()
    assert len(forced) == 1
    assert forced[0]["detail"]["reason"] == reason
    assert (forced[0]["detail"]["code"], forced[0]["detail"]["record"]) == ("NEW-CODE", "12")
    assert forced[0]["actor"] is None  # the local operator
    assert [(r.run_id, r.reason, r.record_key, r.error["code"], r.incident_id) for r in rows] == [
        ("pipe:b1", reason, "12", "NEW-CODE", incident["id"])
    ]


def test_a_declared_failure_is_not_held(tmp_path: Path, db_url: str) -> None:
    org_file = start_failing(tmp_path, db_url, "FATAL:1")  # fail_run, as org.yaml says
    resumed = cli(org_file, db_url, "run", "resume", "pipe:b1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "finished"


def test_only_a_failed_run_with_an_unclassified_error_is_held(tmp_path: Path) -> None:
    process = load_org(write_org(tmp_path / "org")).processes["pipe"]
    unhandled = {"type": "CodedError", "code": "NEW", "names": ["CodedError", "NEW", "OSError"]}
    assert unclassified("failed", unhandled, process)
    assert not unclassified("running", unhandled, process)  # a crash: the run is still running
    assert not unclassified("paused", unhandled, process)
    assert not unclassified("failed", None, process)
    declared = {**unhandled, "handled": {"match": "FATAL", "action": "fail_run"}}
    assert not unclassified("failed", declared, process)
    # Classified since: TimeoutError is handled by pipe, so a stop on it is no longer held.
    assert not unclassified("failed", {"type": "X", "names": ["TimeoutError"]}, process)
    assert error_names({"type": "reported", "code": "E-1"}) == {"reported", "E-1"}
