"""Every route of the API through a real uvicorn server and httpx, on SQLite and PostgreSQL:
each answers with the service's result, and each write changes the store as the CLI would."""

from __future__ import annotations

import json

import httpx

from orgplane.service.decisions import decide_pending, list_decisions
from orgplane.service.runs import run_status
from orgplane.surfaces.http import create_app
from tests.surfaces.http.conftest import RUN, Api
from tests.surfaces.http.server import serving


def test_the_chart_names_every_seat_and_its_coverage(api: Api) -> None:
    with api.client("radar") as client:
        chart = client.get("/api/chart").json()
    seen: list[str] = []
    stack = list(chart["seats"])
    while stack:
        seat = stack.pop()
        seen.append(seat["id"])
        stack.extend(seat["reports"])
    assert sorted(seen) == sorted(api.session.org().seats)
    nick = next(s for s in chart["seats"][0]["reports"] if s["id"] == "nick")
    assert nick["outputs"][0]["consumers"] == {"radar": "use_last_good"}


def test_read_routes_answer_with_the_service_result(api: Api) -> None:
    with api.client("radar") as client:
        assert client.get("/api/readiness").json()["gaps"] is not None
        seats = client.get("/api/seats").json()["seats"]
        assert {s["id"] for s in seats} == set(api.session.org().seats)
        nick = client.get("/api/seats/nick").json()
        assert nick["sops"] == api.session.org().effective_sops("nick")
        assert nick["sops"]  # inherited from the CEO above it
        findings = client.get("/api/findings", params={"not_ok": "true"}).json()
        assert all(not f["ok"] for f in findings["findings"])
        assert sum(findings["counts"].values()) >= len(findings["findings"])
        assert client.get("/api/runs").json()["runs"][0]["run_id"] == RUN
        run = client.get(f"/api/runs/{RUN}").json()
        assert run["stages"]["fetch"]["pending"] == 2
        card = client.get("/api/scorecard").json()
        assert {m["metric"] for m in card["metrics"]} == set(api.session.org().metrics)
        assert client.get("/api/decisions").json() == {"decisions": []}
        assert client.get("/api/notifications", params={"failed": "true"}).json() == {
            "notifications": []
        }
        brief = client.get("/api/briefing/radar").json()
        assert brief["seat"]["id"] == "radar"
        page = client.get("/api/briefing/radar/html")
        assert page.headers["content-type"].startswith("text/html")
        assert "<html" in page.text.lower()
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'orgplane_runs{state="running"} 1.0' in metrics.text
        spec = client.get("/openapi.json").json()
        assert "/api/checkpoints" in spec["paths"]


def test_checkpoint_records_a_stage_as_the_run_s_seat(api: Api) -> None:
    with api.client("pepper") as client:
        answer = client.post(
            "/api/checkpoints",
            json={
                "run_id": RUN,
                "record": "m1",
                "stage": "fetch",
                "action": "done",
                "output": {"subject": "hello"},
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["stages"]["fetch"]["done"] == 1
    assert run_status(api.session, RUN).stages["fetch"].done == 1


def test_publish_heartbeat_metric_and_gate(api: Api) -> None:
    content = json.dumps({"updated_at": "2026-01-01T00:00:00+00:00", "rows": []}).encode()
    with api.client("nick") as client:
        published = client.put("/api/outputs/nick-pipeline/content", content=content)
    assert published.status_code == 200, published.text
    assert published.json()["size"] == len(content)
    with api.client("tally") as client:
        beat = client.post("/api/heartbeats/tally-push", json={"kind": "start"})
        assert beat.status_code == 200, beat.text
        assert beat.json()["kind"] == "start"
        assert client.post("/api/heartbeats/tally-push").json()["kind"] == "success"
        pushed = client.post("/api/metrics/leads-booked", json={"value": 7})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["value"] == 7
    with api.client("radar") as client:
        mine = client.post("/api/gate")
        named = client.post("/api/gate/radar")
    assert mine.status_code == named.status_code == 200, mine.text
    assert {i["output"] for i in mine.json()["inputs"]} == set(
        api.session.org().seats["radar"].inputs
    )
    with api.client("radar") as client:
        scorecard = client.get("/api/scorecard").json()
    leads = next(m for m in scorecard["metrics"] if m["metric"] == "leads-booked")
    assert leads["value"] == 7


def test_a_reported_failure_is_decided_and_a_person_acknowledges_it(api: Api) -> None:
    with api.client("pepper") as client:
        reported = client.post(
            "/api/failures",
            json={
                "subject_kind": "run",
                "subject_id": RUN,
                "message": "Gmail answered 500 for an hour",
                "kind": "crash",
            },
        )
    assert reported.status_code == 201, reported.text
    assert reported.json()["seat_id"] == "pepper"
    decide_pending(api.session)
    (decision,) = list_decisions(api.session).decisions
    assert decision.first_event_id == reported.json()["event_id"]
    with api.client("ceo") as client:
        shown = client.get(f"/api/decisions/{decision.id}")
        assert shown.json()["id"] == decision.id
        acked = client.post(f"/api/decisions/{decision.id}/ack", json={"note": "on it"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["ack_note"] == "on it"
    with api.client("ceo") as client:
        metrics = client.get("/metrics").text
    assert 'orgplane_events_total{kind="crash"} 1.0' in metrics
    assert "orgplane_decision_latency_seconds_count 1.0" in metrics


def test_public_read_lets_reads_through_and_still_guards_writes(api: Api) -> None:
    app = create_app(api.org_path, api.db_url, public_read=True)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/api/chart").status_code == 200
        assert c.get("/metrics").status_code == 200
        refused = c.post("/api/gate")
        assert refused.status_code == 401
        assert "token" in refused.json()["message"]
        bad = c.get("/api/chart", headers={"Authorization": "Bearer orgplane_00000000_nope"})
        assert bad.status_code == 401


def test_a_run_whose_batch_has_a_slash_is_shown(api: Api, tmp_path: object) -> None:
    from pathlib import Path

    from orgplane.service.runs import start_run

    batch = Path(str(tmp_path)) / "slash.json"
    batch.write_text(json.dumps([{"id": "a"}]))
    start_run(api.session, "pepper-triage", batch, batch="2026/06 east")
    with api.client("radar") as client:
        shown = client.get("/api/runs/pepper-triage:2026%2F06%20east")
        plain = client.get("/api/runs/pepper-triage:2026/06 east")
    assert shown.status_code == plain.status_code == 200, shown.text
    assert shown.json()["batch"] == "2026/06 east"


def test_an_edited_org_is_served_within_a_second_and_a_broken_one_is_not(api: Api) -> None:
    import time

    text = api.org_path.read_text()
    api.org_path.write_text(text.replace("title: Cold prospecting", "title: Prospecting"))
    with api.client("radar") as client:
        deadline = time.monotonic() + 10
        while client.get("/api/seats/nick").json()["title"] != "Prospecting":
            assert time.monotonic() < deadline, "the edited org was not picked up"
            time.sleep(0.2)
        api.org_path.write_text(text.replace("title: Cold prospecting", "titel: Broken"))
        time.sleep(1.5)
        kept = client.get("/api/seats/nick")
    assert kept.status_code == 200
    assert kept.json()["title"] == "Prospecting"


def test_the_weekly_audit_route_answers_as_the_cli_and_names_its_parameter(api: Api) -> None:
    with api.client("radar") as client:
        audit = client.get("/api/audit/weekly").json()
        assert set(audit["counts"]) >= {"incidents", "decisions_late", "org_changes"}
        moved = client.get("/api/audit/weekly", params={"since": "2026-11-23"}).json()
        assert moved["since"] == "2026-11-23T00:00:00+00:00"
        bad = client.get("/api/audit/weekly", params={"since": "next tuesday"})
        assert bad.status_code == 400 and bad.json()["message"].startswith("since ")
