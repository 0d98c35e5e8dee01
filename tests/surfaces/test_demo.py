"""``orgplane demo`` tells the whole story, run once through the real entry point."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.surfaces.cli_helpers import orgplane


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("demo")
    result = orgplane("demo", "--keep", str(folder), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, folder


def test_the_org_is_validated_and_drawn(demo: tuple[CompletedProcess[str], Path]) -> None:
    result, _ = demo
    assert "ok " in result.stdout and "14 seats" in result.stdout
    assert "critical outputs with a coverage protocol: 3 of 3" in result.stdout


def test_the_batch_stops_at_17_and_resumes_without_revalidating(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    result, folder = demo
    assert "LM-503" in result.stdout
    # The learning landed in org.yaml, comments kept.
    org_text = (folder / "org.yaml").read_text()
    assert "match: LM-503" in org_text and "# orgplane example" in org_text
    # Each validate call is logged by the simulated LeadMagic: records 1-16 exactly once,
    # 17 three times (the unknown error, the retried error, the success), 18-30 once.
    calls = Counter(
        int(line.split()[0])
        for line in (folder / "simulate/leadmagic-calls.log").read_text().splitlines()
    )
    assert {k: v for k, v in calls.items() if v != 1} == {17: 3}
    assert sorted(calls) == list(range(1, 31))
    # One Gmail draft per prospect, none twice.
    drafts = [
        json.loads(line)
        for line in (folder / "simulate/gmail-drafts.jsonl").read_text().splitlines()
    ]
    keys = [d["idempotency_key"] for d in drafts]
    assert len(keys) == 30 == len(set(keys))


def test_the_corrupt_analysis_and_the_missed_push_are_flagged(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    out, _ = demo[0].stdout, demo[1]
    assert "corrupt │ output dash-analysis" in out
    assert "timestamp generated_at '2026-13-45' is not a valid time" in out
    assert "missed  │ metric leads-booked" in out
    assert "STALE" in out
    assert "stale leads-booked: the " in out and "push did not arrive by" in out
