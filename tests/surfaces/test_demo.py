"""``orgplane demo`` tells the whole story, run once through the real entry point."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from orgplane.org.loader import load_org
from orgplane.org.scaffold import write_example
from orgplane.store.engine import open_store
from orgplane.store.sync import sync_org
from tests.surfaces.cli_helpers import orgplane


@pytest.fixture(scope="module")
def users_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's own store, holding another org, named by ORGPLANE_DB while the demo runs."""
    folder = tmp_path_factory.mktemp("users")
    org_file = write_example(folder / "org", "agency")
    org_file.write_text(org_file.read_text().replace("name: Sneeze It", "name: Real Customer"))
    store = open_store(f"sqlite:///{folder / 'real.db'}")
    sync_org(store, load_org(org_file))
    store.dispose()
    return folder / "real.db"


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, users_store: Path
) -> tuple[CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("demo")
    before = _files_beside(users_store)
    result = orgplane(
        "demo", "--keep", str(folder), env={"ORGPLANE_DB": f"sqlite:///{users_store}"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _files_beside(users_store) == before, "the demo touched the store in ORGPLANE_DB"
    return result, folder


def _files_beside(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(db.parent.iterdir()) if p.is_file()}


def test_the_demo_leaves_orgplane_db_byte_for_byte_untouched(
    demo: tuple[CompletedProcess[str], Path], users_store: Path
) -> None:
    # The fixture compared every file beside the user's store; the demo's own is in its folder.
    _, folder = demo
    assert (folder / "orgplane.db").exists()
    assert f"sqlite:///{folder.resolve()}/orgplane.db" in demo[0].stdout.replace("\n", "")


def test_keep_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    result = orgplane("demo", "--keep", str(tmp_path))
    assert result.returncode == 2
    assert "not empty" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


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


def test_the_owner_would_be_told_at_once_and_the_recovery_withdraws_it(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    from sqlalchemy import select

    from orgplane.store.tables import decisions, notifications

    result, folder = demo
    out = result.stdout
    # Right after the stop: the decision, and the message David (ceo) would get, verbatim.
    told = out.index("to ceo (opened)")
    assert out.index("owner-now") < told < out.index("the learning")
    assert "decision ack 1" in out[told : out.index("the learning")]
    store = open_store(f"sqlite:///{folder / 'orgplane.db'}")
    try:
        with store.read() as conn:
            nick = conn.execute(
                select(decisions).where(decisions.c.kind == "unhandled_error")
            ).one()
            withdrawn = (
                conn.execute(
                    select(notifications.c.status).where(notifications.c.decision_id == nick.id)
                )
                .scalars()
                .all()
            )
            flags = conn.execute(
                select(decisions.c.subject_id, decisions.c.action).where(
                    decisions.c.status == "open"
                )
            ).all()
    finally:
        store.dispose()
    assert (nick.tier, nick.notify, nick.status) == ("owner-now", "ceo", "closed")
    assert withdrawn == ["cancelled"]  # the batch finished before anyone was paged
    assert ("dash-analysis", "skip_and_flag") in [tuple(f) for f in flags]
    assert {action for _, action in flags} == {"skip_and_flag"}


def test_radars_briefing_ends_the_demo_with_dash_flagged(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    result, _ = demo
    briefing = result.stdout[result.stdout.index("Briefing for radar") :]
    flags = briefing[: briefing.index("Inputs")]
    assert "dash-analysis" in flags and "seat dash" in flags and "skipped and flagged" in flags
    assert "last good" in flags


def test_nicks_incident_closes_with_the_lm503_learning_diff_shown_and_run_resumed(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    from sqlalchemy import select

    from orgplane.store.tables import incidents, org_syncs

    result, folder = demo
    out = result.stdout
    closing = out[out.index("the learning") :]
    assert "incident close" in closing and "--handle-error LM-503=retry" in closing
    assert "+      - match: LM-503" in closing and "+        action: retry" in closing
    assert "--- a/org.yaml" in closing and "+++ b/org.yaml" in closing
    assert "went through" in closing and "did NOT" not in closing
    audit = out[out.index("Monday: the weekly audit") :]
    assert "1 learning applied" in audit  # Nick's, in the COO's Monday read
    store = open_store(f"sqlite:///{folder / 'orgplane.db'}")
    try:
        with store.read() as conn:
            nick = conn.execute(
                select(incidents).where(incidents.c.kind == "unhandled_error")
            ).one()
            sync = conn.execute(select(org_syncs).where(org_syncs.c.incident_id == nick.id)).one()
    finally:
        store.dispose()
    assert nick.status == "closed" and nick.learning.startswith("LeadMagic briefly unavailable")
    assert nick.change["kind"] == "handle_error" and nick.change["resumed"]["went_through"]
    assert nick.change["resumed"]["state"] == "finished"
    assert sync.cause.startswith(f"incident {nick.id}: LeadMagic")


def test_the_demo_ends_with_the_weekly_audit(demo: tuple[CompletedProcess[str], Path]) -> None:
    out = demo[0].stdout
    audit = out[out.index("Monday: the weekly audit") :]
    assert out.index("Briefing for radar") < out.index("Monday: the weekly audit")
    by_seat = audit[audit.index("Incidents by seat") : audit.index("Incidents by tier")]
    assert "nick" in by_seat and "dash" in by_seat  # Nick's unplanned error, Dash's analysis
    assert "How the org changed" in audit


def test_peppers_run_pauses_at_31_and_resumes_there(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    result, folder = demo
    out = " ".join(result.stdout.split())
    assert "run pepper-triage:2026-06-22 paused" in out
    assert "paused at record 31, stage fetch: The Gmail connection dropped" in out
    assert "emails fetched during the resume: 10 (31–40); emails 1–30 were not fetched" in out
    store = open_store(f"sqlite:///{folder.resolve() / 'orgplane.db'}")
    try:
        from sqlalchemy import select

        from orgplane.store.tables import events, runs

        with store.read() as conn:
            state = conn.execute(
                select(runs.c.status).where(runs.c.id == "pepper-triage:2026-06-22")
            ).scalar_one()
            paused = conn.execute(
                select(events.c.record_key).where(events.c.kind == "paused")
            ).all()
    finally:
        store.dispose()
    assert state == "finished" and [tuple(p) for p in paused] == [("31",)]


def test_peppers_triage_hands_one_email_to_the_client_lead_without_an_incident(
    demo: tuple[CompletedProcess[str], Path],
) -> None:
    result, folder = demo
    out = result.stdout
    step = out[out.index("Pepper's inbox triage") : out.index("Silent failures")]
    assert "failure events for it: 0" in step and "finished" in step
    assert "client-lead" in step and "fits no bucket" in step
    assert "the delegation ledger" in step and "nick-prospecting" in step
    store = open_store(f"sqlite:///{folder / 'orgplane.db'}")
    try:
        from sqlalchemy import select

        from orgplane.store.tables import events, handoffs

        with store.read() as conn:
            (item,) = conn.execute(select(handoffs)).all()
            kinds = conn.execute(select(events.c.kind).where(events.c.run_id == item.run_id)).all()
    finally:
        store.dispose()
    assert (item.record_key, item.to_seat, item.outcome) == ("e3", "client-lead", "done")
    assert kinds == []
