"""The dashboard in a real browser: Debian's Chromium under Playwright, against the router
served by uvicorn on 127.0.0.1, on each backend."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from orgplane.org.loader import load_org
from orgplane.service.decisions import list_decisions
from orgplane.service.runs import checkpoint, start_run
from orgplane.service.session import Session
from tests.surfaces.web.conftest import (
    ARTIFACTS,
    batch_file,
    dashboard,
    keep_artifact,
    live_decision,
    make_stale,
    serving,
)

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).parents[3] / "docs" / "dashboard-chart.png"


def test_the_chart_draws_every_seat_and_a_stale_one_shows_stale(
    fresh_agency: Path, db_url: str, page: Any, tmp_path: Path
) -> None:
    make_stale(fresh_agency, "dash-analysis")
    seats = load_org(fresh_agency).seats
    with serving(dashboard(fresh_agency, db_url)) as base:
        page.goto(base + "/")
        drawn = page.locator("svg#chart a.seat")
        assert sorted(drawn.evaluate_all("els => els.map(e => e.dataset.seat)")) == sorted(seats)
        dash = page.locator('svg#chart a[data-seat="dash"]')
        assert dash.get_attribute("data-health") == "stale"
        assert "stale" in (dash.text_content() or "")
        assert page.locator('svg#chart a[data-seat="jeff"]').get_attribute("data-health") == (
            "retired"
        )
        assert page.locator('svg#chart a[data-seat="ceo"]').get_attribute("data-kind") == "human"
        assert page.locator('svg#chart a[data-seat="nick"]').get_attribute("data-kind") == "agent"
        # Every box is drawn inside the picture, none on another (as the layout promises).
        boxes = page.locator("svg#chart rect.seat-box").evaluate_all(
            "els => els.map(e => { const b = e.getBoundingClientRect();"
            " return [b.left, b.top, b.right, b.bottom]; })"
        )
        assert len(boxes) == len(seats)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        shot = tmp_path / "chart.png"
        page.locator("main").screenshot(path=str(shot))
        keep_artifact(shot, f"dashboard-chart-{db_url.split(':')[0]}.png")
        if os.environ.get("ORGPLANE_UPDATE_SCREENSHOT") and db_url.startswith("sqlite"):
            shutil.copyfile(shot, DOCS_SCREENSHOT)
        # Clicking a seat opens its page: its outputs and why it is stale.
        dash.click()
        page.wait_for_url("**/seats/dash")
        assert page.locator("h1 .badge").inner_text() == "stale"
        assert page.locator('tr[data-output="dash-analysis"]').is_visible()
    assert (ARTIFACTS / f"dashboard-chart-{db_url.split(':')[0]}.png").stat().st_size > 10_000


def test_acknowledging_a_decision_in_the_page_changes_the_store(
    fresh_agency: Path, db_url: str, page: Any
) -> None:
    decided = live_decision(fresh_agency, db_url)
    with Session.open(fresh_agency, db_url) as session:
        dash = next(d for d in list_decisions(session).decisions if d.id == decided)
    assert dash.state == "live"
    with serving(dashboard(fresh_agency, db_url)) as base:
        page.goto(base + "/decisions")
        row = page.locator(f"tr#decision-{dash.id}")
        row.locator("input[name=note]").fill("looking at it <b>now</b>")
        row.get_by_role("button", name="Acknowledge").click()
        page.wait_for_url(f"**/decisions?acked={dash.id}")
        assert page.locator("#acked").is_visible()
        assert page.locator(f"tr#decision-{dash.id}").get_attribute("data-state") == (
            "acknowledged"
        )
        assert "looking at it <b>now</b>" in page.locator(f"tr#decision-{dash.id}").inner_text()
    with Session.open(fresh_agency, db_url) as session:
        stored = next(d for d in list_decisions(session).decisions if d.id == dash.id)
    assert stored.state == "acknowledged" and stored.ack_note == "looking at it <b>now</b>"


def test_a_runs_page_shows_its_counts_per_stage(
    fresh_agency: Path, db_url: str, page: Any, tmp_path: Path
) -> None:
    with Session.open(fresh_agency, db_url) as session:
        run = start_run(session, "pepper-triage", batch_file(tmp_path, 5), batch="web")
        for record in ("m1", "m2", "m3"):
            checkpoint(session, run.run_id, record, "fetch", done=True)
        checkpoint(session, run.run_id, "m1", "classify", done=True)
    with serving(dashboard(fresh_agency, db_url)) as base:
        page.goto(base + "/runs")
        page.get_by_role("link", name=run.run_id).click()
        page.wait_for_selector("table#stages")

        def count(stage: str, state: str) -> int:
            cell = page.locator(f'tr[data-stage="{stage}"] td[data-count="{state}"]')
            return int(cell.inner_text())

        assert (count("fetch", "done"), count("fetch", "pending")) == (3, 2)
        assert (count("classify", "done"), count("classify", "pending")) == (1, 4)
        assert count("label", "pending") == 5
        assert page.locator("h1 .badge").inner_text() == "running"


def test_a_page_reloads_itself_but_not_under_a_note_being_typed(
    fresh_agency: Path, db_url: str, page: Any
) -> None:
    decision = live_decision(fresh_agency, db_url)
    with serving(dashboard(fresh_agency, db_url, refresh=1)) as base:
        page.goto(base + "/decisions")
        page.evaluate("window.marker = 1")
        page.wait_for_function("window.marker === undefined", timeout=5000)  # it reloaded
        page.locator(f"tr#decision-{decision} input[name=note]").fill("half a sente")
        page.evaluate("window.marker = 2")
        page.wait_for_timeout(2500)
        assert page.evaluate("window.marker") == 2  # not reloaded: the note is still there
        assert page.locator(f"tr#decision-{decision} input[name=note]").input_value() == (
            "half a sente"
        )


@pytest.mark.parametrize("path", ["/", "/seats/radar", "/decisions", "/checks", "/scorecard"])
def test_pages_fit_a_phone(fresh_agency: Path, tmp_path: Path, browser: Any, path: str) -> None:
    db_url = f"sqlite:///{tmp_path / 'phone.db'}"  # the layout does not depend on the backend
    live_decision(fresh_agency, db_url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = context.new_page()
        with serving(dashboard(fresh_agency, db_url)) as base:
            phone.goto(base + path)
            # The page itself never scrolls sideways: wide tables and the chart scroll in
            # their own boxes, and the navigation wraps.
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px phone"
            assert phone.get_by_role("link", name="Decisions").is_visible()
    finally:
        context.close()
