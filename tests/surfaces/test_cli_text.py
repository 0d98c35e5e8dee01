"""Text from outside is printed verbatim: Rich markup in names, messages and ids is not markup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.surfaces.cli_helpers import orgplane


@pytest.fixture
def stored_run(agency: Path, tmp_path: Path) -> str:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "[/api/v1/leads]"}, {"id": "[bold]m2"}]))
    started = orgplane(
        "--org", str(agency), "run", "start", "pepper-triage", str(batch), "--batch", "b"
    )
    assert started.returncode == 0, started.stderr
    return "pepper-triage:b"


def test_help_keeps_the_env_notes() -> None:
    result = orgplane("--help")
    assert result.returncode == 0
    assert "[env: ORGPLANE_ORG; default ./org.yaml]" in result.stdout
    assert "[env: ORGPLANE_DB;" in result.stdout


def test_an_error_naming_markup_prints_it_verbatim(agency: Path) -> None:
    result = orgplane("--org", str(agency), "run", "status", "[/api/v1/leads]")
    assert result.returncode == 2
    assert "no run '[/api/v1/leads]'" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_messages_and_record_ids_with_brackets_survive(agency: Path, stored_run: str) -> None:
    failed = orgplane(
        "--org", str(agency), "checkpoint", stored_run, "[/api/v1/leads]", "fetch",
        "--failed", "E-[timeout]", "--message", "[timeout] upstream [red]gone",
    )  # fmt: skip
    assert "Traceback" not in failed.stderr, failed.stderr
    assert "recorded [/api/v1/leads] / fetch: failed" in failed.stdout
    assert "[timeout] upstream [red]gone" in failed.stdout
    assert "stopped at record [/api/v1/leads], stage fetch" in failed.stdout

    listed = orgplane("--org", str(agency), "run", "list")
    assert "[/api/v1/leads] / fetch" in listed.stdout


def test_published_reason_and_names_are_verbatim(agency: Path, tmp_path: Path) -> None:
    content = tmp_path / "bad.json"
    content.write_text('{"[b]": [1, 2')
    result = orgplane("--org", str(agency), "publish", "dash-analysis", "--file", str(content))
    assert result.returncode == 1
    assert "published dash-analysis" in result.stdout
    assert "Traceback" not in result.stderr
