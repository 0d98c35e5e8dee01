"""Fixtures of the runs suite: a small org whose process ``pipe`` runs the stages in
``pipeline_stages.py``, a migrated store on each backend, and reading the side-effect ledger."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.runs import Process, load_process
from orgplane.store.engine import Store

STAGES_FILE = Path(__file__).parent / "pipeline_stages.py"

ORG_YAML = """\
name: Test org
seats:
  boss:
    title: Boss
    kind: human
    capabilities: [approve]
  bot:
    title: Bot
    kind: agent
    reports_to: boss
    owner: boss
    capabilities: [work]
processes:
  pipe:
    seat: bot
    module: {module}
    stages:
      - name: validate
        kind: pure
      - name: draft
        kind: effectful
      - name: send
        kind: effectful
    handled_errors:
      - match: FLAKY
        action: retry
        retries: 2
        backoff: 0.01s
        message: flaky service; retried
      - match: TimeoutError
        action: retry
        retries: 1
        backoff: 0.01s
        message: timed out; retried once
      - match: BAD
        action: skip_record
        message: bad record; skipped
      - match: HUMAN
        action: escalate
        escalate_to: boss
        message: needs a person's judgment
      - match: FATAL
        action: fail_run
        message: the source is broken; run stopped
  manual:
    seat: bot
    stages:
      - name: fetch
        kind: pure
      - name: post
        kind: effectful
    handled_errors:
      - match: E-SKIP
        action: skip_record
        message: nothing to post; skipped
"""


def write_org(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    org_file = folder / "org.yaml"
    org_file.write_text(ORG_YAML.format(module=STAGES_FILE))
    return org_file


@pytest.fixture
def org_file(tmp_path: Path) -> Path:
    return write_org(tmp_path / "org")


@pytest.fixture
def org(org_file: Path) -> Org:
    return load_org(org_file)


@pytest.fixture
def pipe(org: Org, store: Store) -> Process:
    return load_process(org, "pipe", store, lease=timedelta(seconds=5), chunk=10)


def ledger_counts(org_dir: Path) -> Counter[tuple[str, str]]:
    """How many times each (stage, record) executed its side effect, from the ledger."""
    path = org_dir / "ledger.log"
    if not path.exists():
        return Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for line in path.read_text().splitlines():
        stage_name, key, _ = line.split()
        counts[(stage_name, key)] += 1
    return counts


def records(n: int, **extra: dict[int, object]) -> list[dict[str, object]]:
    """``n`` records with ids 1..n; ``extra`` maps a field to {id: value}."""
    rows: list[dict[str, object]] = [
        {"id": i, "email": f"p{i}@example.com"} for i in range(1, n + 1)
    ]
    for field, by_id in extra.items():
        for ident, value in by_id.items():
            rows[ident - 1][field] = value
    return rows
