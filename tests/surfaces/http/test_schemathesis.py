"""Schemathesis against the API's own /openapi.json through a real server: whatever the
schema allows (and much it does not), no request gets a 5xx. Bounded: 25 cases an operation,
a few hundred in all, on SQLite (the routes' backends are covered by the other API tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from orgplane.surfaces.http import create_app
from tests.surfaces.http.conftest import prepare
from tests.surfaces.http.server import serving

CASES = 25

# The seat whose token a path is called with: the owner of what the examples' writes name.
SEAT_OF = {
    "/api/checkpoints": "pepper",
    "/api/outputs/": "nick",
    "/api/failures": "nick",
    "/api/heartbeats/": "tally",
    "/api/metrics/": "tally",
    "/api/gate": "radar",
}


@pytest.fixture
def served(agency: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    db = f"sqlite:///{tmp_path / 'fuzz.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    with serving(create_app(agency, db)) as url:
        yield url, tokens
    session.close()


def fuzz(operation: Any, url: str, headers: dict[str, str], sent: list[int]) -> None:
    """Up to :data:`CASES` generated requests to ``operation``; raises on the first 5xx."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=CASES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: Any) -> None:
        sent.append(
            case.call_and_validate(
                base_url=url, headers=headers, checks=[not_a_server_error]
            ).status_code
        )

    run()


@pytest.mark.slow
def test_no_request_gets_a_server_error(served: tuple[str, dict[str, str]]) -> None:
    # Driven through Hypothesis directly: schemathesis's pytest plugin does not run under
    # pytest 9 (it reads a node attribute pytest 9 removed).
    url, tokens = served
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    sent: list[int] = []
    for operation in operations:
        seat = next((s for p, s in SEAT_OF.items() if operation.path.startswith(p)), "ceo")
        try:
            fuzz(operation, url, {"Authorization": f"Bearer {tokens[seat]}"}, sent)
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n".join(failures)
    assert len(sent) >= 150, f"only {len(sent)} requests generated"
    print(f"{len(sent)} requests, statuses {sorted(set(sent))}")
