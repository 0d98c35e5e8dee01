"""The dashboard's pages over a real uvicorn on 127.0.0.1, without a browser: every page
answers, outside text is escaped, errors are pages with their status (never a 500), an
acknowledgement the acting seat may not make is a message, and every route reaches the
service layer."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from orgplane.service.decisions import list_decisions
from orgplane.service.runs import start_run
from orgplane.service.session import Session
from orgplane.surfaces.web import router
from tests.surfaces.test_cli_reaches_service import service_calls
from tests.surfaces.web.conftest import batch_file, dashboard, live_decision, serving

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'

# Every route of the router and the path it is walked with ({run}, {decision} filled in).
WALKS: dict[str, tuple[str, str]] = {
    "web_chart": ("GET", "/"),
    "web_seat": ("GET", "/seats/dash"),
    "web_runs": ("GET", "/runs"),
    "web_run": ("GET", "/runs/{run}"),
    "web_checks": ("GET", "/checks"),
    "web_scorecard": ("GET", "/scorecard"),
    "web_decisions": ("GET", "/decisions"),
    "web_ack": ("POST", "/decisions/{decision}/ack"),
    "web_briefings": ("GET", "/briefings"),
    "web_briefing": ("GET", "/briefings/radar"),
}


@contextmanager
def service_calls_in_any_thread() -> Iterator[set[str]]:
    """:func:`service_calls` in this thread and in every thread started inside the block
    (a server started inside it runs each request in a thread of its own)."""
    with service_calls() as seen:
        threading.setprofile(sys.getprofile())
        try:
            yield seen
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]


def test_every_route_is_walked() -> None:
    routes = router(lambda: Session.open("org.yaml")).routes
    assert sorted(r.name for r in routes if isinstance(r, APIRoute)) == sorted(WALKS)


def test_every_page_answers_and_reaches_the_service(
    fresh_agency: Path, db_url: str, tmp_path: Path
) -> None:
    with Session.open(fresh_agency, db_url) as session:
        run = start_run(session, "pepper-triage", batch_file(tmp_path, 3), batch="walk").run_id
    fill = {"run": run, "decision": str(live_decision(fresh_agency, db_url))}
    app = dashboard(fresh_agency, db_url, refresh=30)
    for name, (method, path) in WALKS.items():
        # A server a route, started inside the block, so its request threads are profiled.
        with service_calls_in_any_thread() as seen, serving(app) as base:
            answer = httpx.request(method, base + path.format(**fill), timeout=30)
        assert answer.status_code in (200, 303), (name, answer.text)
        assert seen, f"{name} called no service function"
        if method == "GET":
            assert answer.headers["content-type"].startswith("text/html")
            refreshes = '<meta http-equiv="refresh" content="30">' in answer.text
            assert refreshes and ("location.reload()" in answer.text or name == "web_briefing")


def test_a_hostile_seat_title_is_escaped_everywhere(agency: Path, db_url: str) -> None:
    text = agency.read_text()
    agency.write_text(text.replace("title: Analytics", f"title: '{HOSTILE}'", 1))
    with (
        serving(dashboard(agency, db_url)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        pages = [client.get(p) for p in ("/", "/seats/dash", "/seats/coo")]
    for answer in pages:
        assert answer.status_code == 200
        assert "<script>" not in answer.text and "<b>bold</b>" not in answer.text
    assert "&lt;script&gt;" in pages[0].text and "&lt;script&gt;alert(&#34;x&#34;)" in pages[1].text


def test_errors_are_pages_with_their_status(agency: Path, db_url: str) -> None:
    with (
        serving(dashboard(agency, db_url)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        missing = client.get("/seats/nobody")
        no_run = client.get("/runs/pepper-triage:nope")
        no_briefing = client.get("/briefings/ceo")
        no_decision = client.post("/decisions/999/ack")
        bad_id = client.post("/decisions/abc/ack")
    assert missing.status_code == 404 and "nobody" in missing.text
    assert no_run.status_code == 404
    assert no_briefing.status_code == 400 and "declares no inputs" in no_briefing.text
    assert no_decision.status_code == 404 and "no such decision" in no_decision.text
    assert bad_id.status_code == 422  # FastAPI's own refusal of a path that is not a number


def test_a_broken_org_file_is_a_503_naming_the_line(agency: Path, db_url: str) -> None:
    agency.write_text(agency.read_text().replace("kind: human", "kind: robot", 1))
    with (
        serving(dashboard(agency, db_url)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        answer = client.get("/")
    assert answer.status_code == 503
    assert f"{agency}:" in answer.text and "robot" in answer.text


@pytest.mark.parametrize("seat", ["nick", "nobody"])
def test_an_agent_cannot_acknowledge_and_is_told_why(
    fresh_agency: Path, db_url: str, seat: str
) -> None:
    decision = live_decision(fresh_agency, db_url)
    app = dashboard(fresh_agency, db_url, actor=lambda: seat)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        answer = client.post(f"/decisions/{decision}/ack", data={"note": "mine"})
    assert answer.status_code == 403
    refusal = answer.text.split('id="refused">', 1)[1].split("</div>", 1)[0]
    assert seat in refusal and ("takes a person" in refusal or "not an active seat" in refusal)
    assert f'id="decision-{decision}"' in answer.text  # the list is still there to act on
    with Session.open(fresh_agency, db_url) as session:
        stored = next(d for d in list_decisions(session).decisions if d.id == decision)
    assert stored.state == "live" and stored.ack_note is None


def test_a_person_acknowledges_and_a_foreign_page_cannot(fresh_agency: Path, db_url: str) -> None:
    decision = live_decision(fresh_agency, db_url)
    app = dashboard(fresh_agency, db_url, actor=lambda: "coo")
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        foreign = client.post(
            f"/decisions/{decision}/ack", headers={"origin": "https://evil.example"}
        )
        too_big = client.post(f"/decisions/{decision}/ack", data={"note": "x" * 5000})
        assert foreign.status_code == 400 and "not from this dashboard" in foreign.text
        assert too_big.status_code == 400 and "over 4096 bytes" in too_big.text
        done = client.post(
            f"/decisions/{decision}/ack", data={"note": "on it"}, headers={"origin": base}
        )
    assert done.status_code == 303 and done.headers["location"] == f"/decisions?acked={decision}"
    with Session.open(fresh_agency, db_url) as session:
        stored = next(d for d in list_decisions(session).decisions if d.id == decision)
    assert stored.state == "acknowledged" and stored.ack_note == "on it"


def test_a_seat_whose_output_nobody_covers_carries_the_mark(agency: Path, db_url: str) -> None:
    text = agency.read_text()
    arin = "    capabilities: [call-coaching]\n    inputs:\n      ccm-stats: skip_and_flag"
    agency.write_text(text.replace(arin, "    capabilities: [call-coaching]\n    #", 1))
    with (
        serving(dashboard(agency, db_url)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        chart, seat = client.get("/"), client.get("/seats/dash")
    marked = [
        part.split('"', 1)[0]
        for part in chart.text.split('data-seat="')[1:]
        if 'data-uncovered="true"' in part.split("</a>", 1)[0]
    ]
    assert marked == ["dash"]
    assert chart.text.count('data-mark="no-coverage"') == 1
    assert "no coverage protocol: ccm-stats" in chart.text  # the box's tooltip says which
    assert 'data-mark="no-coverage">no coverage protocol' in seat.text


def test_any_note_posted_is_stored_verbatim_or_refused_in_words(
    fresh_agency: Path, tmp_path: Path
) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    db = f"sqlite:///{tmp_path / 'notes.db'}"
    decision = live_decision(fresh_agency, db)
    notes = st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
    with (
        serving(dashboard(fresh_agency, db)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.one_of(notes, st.binary(max_size=300)))
        def post(body: str | bytes) -> None:
            path = f"/decisions/{decision}/ack"
            if isinstance(body, str):  # a note typed in the form
                answer = client.post(path, data={"note": body})
            else:  # whatever bytes a client sends as a form
                form = {"content-type": "application/x-www-form-urlencoded"}
                answer = client.post(path, content=body, headers=form)
            assert answer.status_code in (303, 400), answer.text
            if answer.status_code == 400:
                assert "the form is" in answer.text or "NUL character" in answer.text
                return
            if isinstance(body, str):
                with Session.open(fresh_agency, db) as session:
                    stored = next(d for d in list_decisions(session).decisions if d.id == decision)
                assert stored.ack_note == (body.strip() or None)

        post()


def test_a_note_with_a_nul_is_bad_input_on_either_backend(fresh_agency: Path, db_url: str) -> None:
    decision = live_decision(fresh_agency, db_url)
    with (
        serving(dashboard(fresh_agency, db_url)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        answer = client.post(f"/decisions/{decision}/ack", data={"note": "a\x00b"})
    assert answer.status_code == 400 and "NUL character" in answer.text
