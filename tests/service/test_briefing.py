"""Radar's morning briefing on real state files and a real store (SQLite and PostgreSQL).

Radar reads six outputs with every protocol but block: dash-analysis skip_and_flag,
nick-pipeline and tally-kpis use_last_good, pepper-triage escalate (to client-lead),
arin-coaching and crystal-billing skip_and_flag. The example declares summary fields on
dash-analysis (total_spend), nick-pipeline (drafted) and pepper-triage; the rest show their
first lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from orgplane.errors import NotFoundError, UsageError
from orgplane.respond.briefing import stamp
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service import watch
from orgplane.service.briefing import Briefing, BriefingInput, compile_briefing
from orgplane.service.decisions import ack_decision, decide_pending
from orgplane.service.session import Session
from orgplane.store.tables import gate_answers, runs
from orgplane.store.types import utcnow
from orgplane.surfaces.briefing import render_html, render_markdown
from tests.watch.conftest import NOW, iso, write_state

STAMPS = {
    "dash-analysis": ("dash", "generated_at"),
    "nick-pipeline": ("nick", "updated_at"),
    "pepper-triage": ("pepper", "updated_at"),
    "tally-kpis": ("tally", "pushed_at"),
    "arin-coaching": ("arin", "updated_at"),
    "crystal-billing": ("crystal", "updated_at"),
}


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as opened:
        yield opened


def write_inputs(org_file: Path, at: datetime, label: str, spend: float = 10) -> dict[str, str]:
    """Every input of Radar with data from ``at``; the texts written, by output."""
    written = {}
    for output, (name, stamp_field) in STAMPS.items():
        body = {
            stamp_field: iso(at),
            "clients": ["Acme Dental"],
            "total_spend": spend,
            "drafted": f"{label} drafts",
            "exceptions_to_client_lead": 2,
            "label": label,
        }
        text = json.dumps(body, indent=1)
        write_state(org_file.parent / "state" / f"{name}.json", text, at)
        written[output] = text
    return written


def by_output(briefing: Briefing) -> dict[str, BriefingInput]:
    return {i.output: i for i in briefing.inputs}


def test_fresh_inputs_are_current_with_their_summaries(session: Session, agency: Path) -> None:
    write_inputs(agency, NOW - timedelta(hours=1), "today", spend=2800.5)
    briefing = compile_briefing(session, "radar", now=NOW)
    assert [i.output for i in briefing.inputs] == list(STAMPS)  # declaration order
    assert (briefing.counts.fresh, briefing.counts.inputs, briefing.counts.flagged) == (6, 6, 0)
    assert (briefing.seat.id, briefing.seat.title, briefing.org) == (
        "radar",
        "Chief of staff",
        "Sneeze It",
    )
    items = by_output(briefing)
    for item in briefing.inputs:
        assert (item.fresh, item.current, item.flag, item.action) == (
            True,
            True,
            None,
            "read as current",
        )
        assert item.summary is not None and item.summary.as_of is None
    dash = items["dash-analysis"].summary
    assert dash is not None and (dash.source, dash.field, dash.text) == (
        "field",
        "total_spend",
        "2800.5",
    )
    nick = items["nick-pipeline"].summary
    assert nick is not None and nick.text == "today drafts"
    tally = items["tally-kpis"].summary  # no summary declared: the first lines
    assert tally is not None and tally.source == "first_lines" and tally.field is None
    assert tally.text.splitlines()[0] == "{" and "5 of" in (tally.note or "")
    assert items["dash-analysis"].producer.holder == "Dash"


def test_dash_stale_is_flagged_by_seat_and_last_good_time_never_as_current(
    session: Session, agency: Path
) -> None:
    write_inputs(agency, NOW - timedelta(hours=30), "yesterday", spend=111)
    watch.check(session, now=NOW - timedelta(hours=29))  # all fresh then: last good recorded
    write_inputs(agency, NOW - timedelta(hours=20), "stale today", spend=999)
    briefing = compile_briefing(session, "radar", now=NOW)
    dash = by_output(briefing)["dash-analysis"]
    assert (dash.status, dash.fresh, dash.current, dash.given) == ("stale", False, False, "nothing")
    assert dash.summary is None
    # Its data of 20h ago was good when written: the producer's last good data (as check says).
    assert dash.last_good_at == NOW - timedelta(hours=20)
    assert dash.flag is not None
    assert "seat dash (Dash)" in dash.flag and "dash-analysis" in dash.flag
    assert f"last good {stamp(NOW - timedelta(hours=20))} (20h ago)" in dash.flag
    assert dash.action == "skipped and flagged" and dash.flag.endswith("skipped and flagged")
    assert not briefing.ok and briefing.counts.flagged == 6

    for text in (render_markdown(briefing), render_html(briefing)):
        assert "999" not in text and "stale today drafts" not in text  # stale content: never
        assert "dash-analysis" in text and "(20h ago)" in text
    md = render_markdown(briefing)
    flags = md[md.index("## Flags") : md.index("## Inputs")]
    assert "**dash-analysis**: dash-analysis from seat dash (Dash) is stale" in flags


def test_use_last_good_is_labelled_with_its_age(session: Session, agency: Path) -> None:
    write_inputs(agency, NOW - timedelta(hours=30), "yesterday")
    compile_briefing(session, "radar", now=NOW - timedelta(hours=29))  # the gate keeps it
    write_inputs(agency, NOW - timedelta(hours=20), "stale today")
    nick = by_output(compile_briefing(session, "radar", now=NOW))["nick-pipeline"]
    label = f"as of {stamp(NOW - timedelta(hours=30))}, 1d 6h old"
    assert (nick.given, nick.current, nick.fresh) == ("last_good", False, False)
    assert nick.summary is not None and nick.summary.as_of == label
    assert nick.summary.text == "yesterday drafts"  # the kept content, not today's stale one
    assert nick.action == f"last good shown, {label}"
    assert nick.flag is not None and "seat nick (Nick)" in nick.flag and label in nick.flag

    briefing = compile_briefing(session, "radar", now=NOW)
    md, page = render_markdown(briefing), render_html(briefing)
    assert f"Summary (drafted), **{label}** (not current):" in md
    assert label in page and "(not current)" in page


def test_use_last_good_never_seen_good_is_skipped(session: Session) -> None:
    nick = by_output(compile_briefing(session, "radar", now=NOW))["nick-pipeline"]
    assert (nick.status, nick.given, nick.summary) == ("missing", "nothing", None)
    assert nick.flag is not None and "never seen good" in nick.flag
    assert "no good content was ever kept" in nick.action


def test_escalate_input_names_the_person(session: Session, agency: Path) -> None:
    write_inputs(agency, NOW - timedelta(hours=3), "late")  # pepper's max_age is 2h
    pepper = by_output(compile_briefing(session, "radar", now=NOW))["pepper-triage"]
    assert (pepper.status, pepper.given, pepper.summary) == ("stale", "refused", None)
    assert pepper.escalated_to is not None
    assert (pepper.escalated_to.id, pepper.escalated_to.holder) == ("client-lead", "Janine")
    assert pepper.action == "refused and escalated to client-lead (Janine)"
    assert pepper.flag is not None and pepper.flag.endswith("escalated to client-lead (Janine)")


def test_every_answer_is_stored_as_the_gate_stores_it(session: Session, agency: Path) -> None:
    write_inputs(agency, NOW - timedelta(hours=1), "today")
    compile_briefing(session, "radar", now=NOW)
    with session.store().read() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(gate_answers)
            .where(gate_answers.c.seat_id == "radar", gate_answers.c.answered_at == NOW)
        ).scalar()
    assert count == 6


def test_a_declared_field_missing_falls_back_to_the_first_lines(
    session: Session, agency: Path
) -> None:
    at = NOW - timedelta(hours=1)
    write_inputs(agency, at, "today")
    text = json.dumps({"generated_at": iso(at), "clients": [], "total_spend": 1, "x": 1})
    write_state(agency.parent / "state" / "dash.json", text, at)
    org_text = agency.read_text().replace("summary: total_spend", "summary: meta.headline")
    agency.write_text(org_text)
    dash = by_output(compile_briefing(session, "radar", now=NOW))["dash-analysis"]
    assert dash.summary is not None
    assert (dash.summary.source, dash.summary.field, dash.summary.text) == (
        "first_lines",
        "meta.headline",
        text,
    )
    assert (
        dash.summary.note == "the content has no field 'meta.headline'; the first lines are shown"
    )


def test_a_csv_summary_is_the_newest_rows_column(session: Session, agency: Path) -> None:
    # Arin reads ccm-stats (csv, timestamp recorded_at, summary calls): the newest row by time,
    # wherever it sits in the file.
    rows = [
        ("recorded_at", "agent", "calls"),
        (iso(NOW - timedelta(hours=3)), "Amanda", "41"),
        (iso(NOW - timedelta(hours=1)), "Erica", "37"),
        (iso(NOW - timedelta(hours=2)), "Amanda", "12"),
    ]
    text = "\n".join(",".join(r) for r in rows) + "\n"
    write_state(agency.parent / "state" / "ccm-stats.csv", text, NOW - timedelta(minutes=30))
    [stats] = compile_briefing(session, "arin", now=NOW).inputs
    assert stats.fresh and stats.summary is not None
    assert (stats.summary.source, stats.summary.field, stats.summary.text) == (
        "field",
        "calls",
        "37",
    )


def _decision_for_a_run(session: Session, run_id: str, process: str, seat: str, kind: str) -> None:
    store = session.store()
    with store.write() as conn:
        conn.execute(
            insert(runs).values(
                id=run_id,
                process_id=process,
                batch=run_id,
                seat_id=seat,
                status="failed",
                stages=[],
                records_total=0,
                records_digest="",
                created_at=utcnow(),
            )
        )
        record_event(
            conn,
            FailureEvent(
                kind=kind,  # type: ignore[arg-type]
                occurred_at=utcnow(),
                subject_kind="run",
                subject_id=run_id,
                message=f"{run_id} {kind}",
                seat_id=seat,
                run_id=run_id,
            ),
        )


def test_open_decisions_waiting_on_a_person_live_first(session: Session, agency: Path) -> None:
    write_inputs(agency, NOW - timedelta(hours=30), "old")
    watch.check(session)  # every input stale: skip_and_flag decisions that wait on nobody
    _decision_for_a_run(session, "nick:1", "nick-prospecting", "nick", "unhandled_error")
    _decision_for_a_run(session, "pepper:1", "pepper-triage", "pepper", "handled_error")
    decided = decide_pending(session)
    ids = {d.subject_id: d.id for d in decided.decisions}
    acked = ack_decision(session, ids["nick:1"], "looking").acked_until
    briefing = compile_briefing(session, "radar", now=utcnow())

    assert [d.subject_id for d in briefing.decisions] == ["pepper:1", "nick:1"]
    pepper, nick = briefing.decisions
    assert (pepper.state, pepper.action, pepper.tier) == ("live", "escalate", "high")
    assert pepper.notify is not None and pepper.notify.id == "coo"
    assert (nick.state, nick.acked_until, nick.tier) == ("acknowledged", acked, "owner-now")
    assert nick.notify is not None and (nick.notify.id, nick.notify.holder) == (
        "ceo",
        "David Steel",
    )
    assert nick.ack.endswith(f"decision ack {ids['nick:1']}")
    assert briefing.counts.decisions_awaiting == 2
    assert briefing.counts.other_open_decisions == len(decided.decisions) - 2 > 0

    md = render_markdown(briefing)
    section = md[md.index("## Decisions") : md.index("## Scorecard")]
    assert section.index("pepper:1") < section.index("nick:1")
    assert f"acknowledged until {stamp(acked)}" in section  # type: ignore[arg-type]
    assert f"decision ack {ids['nick:1']}" in section and "**live**" in section
    assert "other open decisions wait on nobody now: " in section
    assert sum(briefing.other_decisions.values()) == briefing.counts.other_open_decisions
    assert "skip_and_flag" in briefing.other_decisions


def test_the_scorecard_marks_stale_metrics_with_their_last_clean_push(
    session: Session, agency: Path
) -> None:
    write_inputs(agency, NOW - timedelta(hours=1), "today")
    pushed = NOW - timedelta(days=2)
    watch.push_metric(session, "leads-booked", 9, at=iso(pushed))
    briefing = compile_briefing(session, "radar", now=NOW)
    rows = {m.metric: m for m in briefing.scorecard.metrics}
    assert rows["leads-booked"].stale and rows["leads-booked"].last_clean_push == pushed
    assert briefing.counts.metrics_stale == 3 and not briefing.ok
    md = render_markdown(briefing)
    row = next(line for line in md.splitlines() if line.startswith("| leads-booked"))
    assert "**STALE**" in row and stamp(pushed) in row and "| 9 |" in row
    assert "**metric leads-booked** is missed" in md


def test_an_unknown_seat_and_a_seat_without_inputs_are_refused(session: Session) -> None:
    with pytest.raises(NotFoundError, match="seat 'nobody' is not declared"):
        compile_briefing(session, "nobody")
    with pytest.raises(UsageError, match=r"seat 'ceo' declares no inputs.*seats\.ceo.*radar"):
        compile_briefing(session, "ceo")


def test_a_hostile_file_is_escaped_in_html_and_verbatim_in_markdown(
    session: Session, agency: Path
) -> None:
    at = NOW - timedelta(hours=1)
    write_inputs(agency, at, "today")
    hostile = '<script>alert("x")</script> **[red]boom[/red]**'
    text = json.dumps({"updated_at": iso(at), "note": hostile}, ensure_ascii=False)
    write_state(agency.parent / "state" / "crystal.json", text, at)
    briefing = compile_briefing(session, "radar", now=NOW)
    crystal = by_output(briefing)["crystal-billing"].summary
    assert crystal is not None and crystal.text == text  # first lines: one line of JSON
    page = render_html(briefing)
    assert "<script" not in page and "&lt;script&gt;alert(" in page
    assert "[red]boom[/red]" in page
    assert f"```text\n{text}\n```" in render_markdown(briefing)
