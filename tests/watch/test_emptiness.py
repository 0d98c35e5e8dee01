"""Seat health from generated history: a seat running on empty (runs that get no records or end
with none done, several times running; an output whose content stays the same for days; runs
that keep needing corrections) is told from a seat whose process broke (its latest run failed),
each with its evidence, judged by the declared thresholds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from orgplane.service.hearings import SeatVitalityView, seats_health
from orgplane.service.session import Session
from orgplane.store.types import utcnow
from tests.history import add_publish, add_run


def _seats(session: Session) -> dict[str, SeatVitalityView]:
    return {s.seat: s for s in seats_health(session).seats}


def test_on_empty_is_told_from_a_broken_process(agency: Path, db_url: str) -> None:
    now = utcnow()
    with Session.open(agency, db_url) as session:
        store = session.store()
        # Nick: work came in two weeks ago, then three runs in a row got nothing to do.
        add_run(store, "nick-prospecting", "nick", "b1", now - timedelta(days=14), ["done"] * 5)
        add_run(store, "nick-prospecting", "nick", "b2", now - timedelta(days=6), [])
        add_run(store, "nick-prospecting", "nick", "b3", now - timedelta(days=4), ["skipped"])
        add_run(store, "nick-prospecting", "nick", "b4", now - timedelta(days=1), [])
        # Pepper: runs full of work, and the latest one broke.
        add_run(store, "pepper-triage", "pepper", "b1", now - timedelta(days=2), ["done"] * 4)
        add_run(store, "pepper-triage", "pepper", "b2", now - timedelta(days=1), [])
        add_run(
            store,
            "pepper-triage",
            "pepper",
            "b3",
            now - timedelta(hours=1),
            ["active"] * 3,
            status="failed",
        )
        # Dash: publishes every day, the same content for ten days.
        for day in range(10, 0, -1):
            add_publish(store, "dash-analysis", b'{"clients": []}', now - timedelta(days=day))
        # Tally: busy, its content changing: neither empty nor broken.
        add_run(store, "tally-push", "tally", "b1", now - timedelta(days=1), ["done"] * 2)
        for day, body in enumerate([b'{"v": 1}', b'{"v": 2}', b'{"v": 3}']):
            add_publish(store, "tally-kpis", body, now - timedelta(days=3 - day))

        seats = _seats(session)
        nick, pepper, dash, tally = (seats[s] for s in ("nick", "pepper", "dash", "tally"))

        assert nick.status == "on_empty" and not nick.broken
        (empty,) = nick.empty
        assert empty.kind == "empty_runs" and empty.subject_id == "nick-prospecting"
        assert empty.runs == [f"nick-prospecting:b{i}" for i in (4, 3, 2)]
        assert "no records" in empty.message and "0 of 1 done" in empty.message
        assert nick.next_step == "open a retirement hearing: orgplane hearing open nick"

        assert pepper.status == "broken" and not pepper.empty
        (broke,) = pepper.broken
        assert broke.kind == "run_failed" and broke.subject_id == "pepper-triage:b3"
        assert "MailboxGone" in broke.message and "stage fetch" in broke.message
        assert "orgplane run resume pepper-triage:b3" in pepper.next_step

        assert dash.status == "on_empty"
        (unchanged,) = dash.empty
        assert unchanged.kind == "unchanged_output" and unchanged.subject_id == "dash-analysis"
        assert unchanged.since is not None and now - unchanged.since >= timedelta(days=9)

        assert tally.status == "ok" and not tally.empty and not tally.broken
        assert seats["jeff"].status == "retired"
        report = seats_health(session)
        assert not report.ok and report.counts["on_empty"] == 2 and report.counts["broken"] == 1


def test_runs_that_keep_needing_corrections(agency: Path, db_url: str) -> None:
    now = utcnow()
    with Session.open(agency, db_url) as session:
        store = session.store()
        for day, outcome in ((5, "corrected"), (3, "held"), (1, "corrected")):
            add_run(
                store,
                "tally-push",
                "tally",
                f"b{day}",
                now - timedelta(days=day),
                ["done", outcome],  # type: ignore[list-item]
                status="held" if outcome == "held" else "finished",
            )
        tally = _seats(session)["tally"]
        assert tally.status == "on_empty"
        (corrections,) = tally.empty
        assert corrections.kind == "corrections"
        assert sorted(corrections.runs) == [f"tally-push:b{d}" for d in (1, 3, 5)]
        # A correction eight days ago is outside the declared seven: two are not three.
        add_run(store, "pepper-triage", "pepper", "old", now - timedelta(days=8), ["corrected"])
        add_run(store, "pepper-triage", "pepper", "new", now - timedelta(days=1), ["corrected"])
        add_run(store, "pepper-triage", "pepper", "new2", now - timedelta(hours=1), ["corrected"])
        assert _seats(session)["pepper"].status == "ok"


def test_thresholds_are_declared_per_org_and_per_seat(agency: Path, db_url: str) -> None:
    now = utcnow()
    text = agency.read_text()
    nick = "    capabilities: [cold-prospecting]\n"
    assert nick in text
    agency.write_text(text.replace(nick, nick + "    health: {empty_runs: 4}\n", 1))
    with Session.open(agency, db_url) as session:
        store = session.store()
        for day in (3, 2, 1):
            add_run(store, "nick-prospecting", "nick", f"b{day}", now - timedelta(days=day), [])
            add_publish(store, "pepper-triage", b"{}", now - timedelta(days=day))
        seats = _seats(session)
        # Three empty runs are not the four Nick's seat asks for.
        assert seats["nick"].status == "ok"
        assert seats["nick"].thresholds.empty_runs == 4
        assert seats["nick"].thresholds.empty_after == "7d"
        # Pepper's content has been the same for three days, not the org's seven.
        assert seats["pepper"].status == "ok"
        add_run(store, "nick-prospecting", "nick", "b0", now - timedelta(minutes=5), [])
        assert _seats(session)["nick"].status == "on_empty"
    agency.write_text(agency.read_text().replace("  empty_after: 7d", "  empty_after: 2d", 1))
    with Session.open(agency, db_url) as session:
        pepper = _seats(session)["pepper"]
        assert pepper.status == "on_empty" and pepper.thresholds.empty_after == "2d"


def test_health_writes_nothing(agency: Path, db_url: str) -> None:
    from tests.service.test_reads_write_nothing import dump

    with Session.open(agency, db_url) as session:
        add_run(session.store(), "nick-prospecting", "nick", "b", utcnow(), [])
        before = dump(db_url)
        seats_health(session)
        assert dump(db_url) == before


def test_no_run_for_days_and_a_frozen_file(agency: Path, db_url: str) -> None:
    from sqlalchemy import insert, update

    from orgplane.store.tables import processes, watch_states

    now = utcnow()
    with Session.open(agency, db_url) as session:
        store = session.store()
        with store.write() as conn:
            # Declared a month ago, last run ten days ago: nothing has come for the seat since.
            conn.execute(
                update(processes)
                .where(processes.c.id == "tally-push")
                .values(first_declared_at=now - timedelta(days=30))
            )
            # Nick's state file: its timestamp moves, its content has not changed in ten days.
            conn.execute(
                insert(watch_states).values(
                    subject_kind="output",
                    subject_id="nick-pipeline",
                    status="frozen",
                    reason="the content has not changed over 9 updates",
                    since=now - timedelta(days=10),
                    same_content=9,
                    checked_at=now,
                    details={},
                )
            )
        add_run(store, "tally-push", "tally", "old", now - timedelta(days=10), ["done"])
        seats = _seats(session)
        (no_runs,) = seats["tally"].empty
        assert no_runs.kind == "no_runs" and "no run of tally-push for 7d" in no_runs.message
        (frozen,) = seats["nick"].empty
        assert frozen.kind == "unchanged_output" and frozen.subject_id == "nick-pipeline"
        assert "9 updates" in frozen.message
        # A run today: Tally has work again.
        add_run(store, "tally-push", "tally", "new", now - timedelta(hours=1), ["done"])
        assert _seats(session)["tally"].status == "ok"
