"""Every route of the API reaches the service layer: the API parses and renders, nothing else.

Each route is called through a real server whose threads run under a profiler noting every
function of ``orgplane.service`` entered (the session, the models and the token check aside,
which every route touches). A new route must be added to :data:`REQUESTS`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from orgplane.surfaces.http import create_app
from tests.surfaces.http.conftest import RUN, prepare
from tests.surfaces.http.server import serving
from tests.surfaces.test_cli_reaches_service import PLUMBING as CLI_PLUMBING
from tests.surfaces.test_cli_reaches_service import service_calls

PLUMBING = (*CLI_PLUMBING, "tokens.py")  # every route checks its token

BODY = json.dumps({"updated_at": "2026-01-01T00:00:00+00:00"}).encode()

# Each route, as (method, path template) -> (seat, path, request keywords).
REQUESTS: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
    ("GET", "/api/chart"): ("radar", "/api/chart", {}),
    ("GET", "/api/readiness"): ("radar", "/api/readiness", {}),
    ("GET", "/api/audit/weekly"): (
        "radar",
        "/api/audit/weekly",
        {"params": {"since": "2026-11-23"}},
    ),
    ("GET", "/api/seats"): ("radar", "/api/seats", {}),
    ("GET", "/api/seats/{seat_id}"): ("radar", "/api/seats/nick", {}),
    ("GET", "/api/findings"): ("radar", "/api/findings", {"params": {"not_ok": "true"}}),
    ("GET", "/api/runs"): ("radar", "/api/runs", {}),
    ("GET", "/api/runs/{run_id}"): ("radar", f"/api/runs/{RUN}", {}),
    ("GET", "/api/scorecard"): ("radar", "/api/scorecard", {}),
    ("GET", "/api/decisions"): ("radar", "/api/decisions", {}),
    ("GET", "/api/decisions/{decision_id}"): ("radar", "/api/decisions/1", {}),
    ("GET", "/api/incidents"): ("radar", "/api/incidents", {}),
    ("GET", "/api/incidents/{incident_id}"): ("radar", "/api/incidents/1", {}),
    ("GET", "/api/follow-ups"): ("radar", "/api/follow-ups", {}),
    ("GET", "/api/briefing/{seat_id}"): ("radar", "/api/briefing/radar", {}),
    ("GET", "/api/briefing/{seat_id}/html"): ("radar", "/api/briefing/radar/html", {}),
    ("GET", "/api/notifications"): ("radar", "/api/notifications", {}),
    ("GET", "/metrics"): ("radar", "/metrics", {}),
    ("POST", "/api/checkpoints"): (
        "pepper",
        "/api/checkpoints",
        {"json": {"run_id": RUN, "record": "m1", "stage": "fetch", "action": "done"}},
    ),
    ("PUT", "/api/outputs/{output_id}/content"): (
        "nick",
        "/api/outputs/nick-pipeline/content",
        {"content": BODY},
    ),
    ("POST", "/api/heartbeats/{name}"): ("tally", "/api/heartbeats/tally-push", {}),
    ("POST", "/api/metrics/{metric_id}"): (
        "tally",
        "/api/metrics/leads-booked",
        {"json": {"value": 1}},
    ),
    ("POST", "/api/gate"): ("radar", "/api/gate", {}),
    ("POST", "/api/gate/{seat_id}"): ("radar", "/api/gate/radar", {}),
    ("POST", "/api/failures"): (
        "nick",
        "/api/failures",
        {"json": {"subject_kind": "process", "subject_id": "nick-prospecting", "message": "x"}},
    ),
    ("POST", "/api/decisions/{decision_id}/ack"): ("ceo", "/api/decisions/1/ack", {}),
    ("GET", "/api/delegation"): ("radar", "/api/delegation", {"params": {"since": "2026-01-01"}}),
    ("GET", "/api/queue"): ("client-lead", "/api/queue", {}),
    ("POST", "/api/queue/{handoff_id}/resolve"): (
        "client-lead",
        "/api/queue/1/resolve",
        {"json": {"outcome": "done", "note": "answered"}},
    ),
}


def routes_of(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app publishes in its OpenAPI document."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_is_walked(agency: Path, tmp_path: Path) -> None:
    app = create_app(agency, f"sqlite:///{tmp_path / 'walk.db'}")
    assert sorted(routes_of(app)) == sorted(REQUESTS), "add the new route to REQUESTS"


def test_every_route_reaches_a_service_function(agency: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'walk.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    from orgplane.service.decisions import decide_pending
    from orgplane.service.failures import report_failure
    from orgplane.service.runs import checkpoint
    from orgplane.service.tokens import create_token

    report_failure(session, "unhandled_error", "process", "pepper-triage", "stalled")
    decide_pending(session)
    checkpoint(session, RUN, "m2", "fetch", handoff="client-lead", reason="fits no bucket")
    tokens["client-lead"] = create_token(session, "client-lead").token
    missing = []
    with (
        service_calls(plumbing=PLUMBING, threads=True) as seen,
        serving(create_app(agency, db)) as url,
    ):
        for (method, template), (seat, path, keywords) in REQUESTS.items():
            seen.clear()
            headers = {"Authorization": f"Bearer {tokens[seat]}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                answer = client.request(method, path, **keywords)
            assert answer.status_code < 300, (template, answer.text)
            if not seen:
                missing.append(f"{method} {template}")
    session.close()
    assert not missing, f"routes that called no service function: {missing}"
