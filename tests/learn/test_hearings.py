"""Retirement hearings: refused while anything points at the seat without a new home (one test a
kind of reference, each named with the --give that settles it, nothing written), complete
retirements leave nothing in the loaded org pointing at the seat, the edit keeps comments and
is shown as a diff and recorded (org_changes, the hearing, the org sync's cause), and a retired
seat's processes stop raising failures of their own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap
from sqlalchemy import func, insert, select

from orgplane.errors import PermissionDenied, UsageError
from orgplane.learn.hearings import declared_references, parse_gives
from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.decisions import decide_pending
from orgplane.service.hearings import decide_hearing, open_hearing, seats_health, show_hearing
from orgplane.service.session import Session
from orgplane.store.engine import Store
from orgplane.store.tables import hearings, org_changes, org_syncs, run_records, runs
from orgplane.store.types import utcnow
from tests.history import add_run


def complete_gives(org: Org, seat_id: str) -> list[str]:
    """A --give for every declared reference to ``seat_id``: the founder takes everything (the
    COO when the founder is the one retired): a person, active, above everyone."""
    taker = "coo" if seat_id == "ceo" else "ceo"
    return [f"{r.key}={taker}" for r in declared_references(org, seat_id) if r.key]


def _add_escalation(doc: CommentedMap) -> None:
    doc["processes"]["pepper-triage"]["handled_errors"].append(
        CommentedMap(
            {
                "match": "ClientAngry",
                "action": "escalate",
                "message": "An angry client: a person answers",
                "escalate_to": "client-lead",
            }
        )
    )


def _add_rule(doc: CommentedMap) -> None:
    doc["urgency"]["high"]["when"].append(CommentedMap({"seat": "client-lead"}))


def _open_decision(session: Session, seat_id: str) -> None:
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="stale",
                occurred_at=utcnow(),
                subject_kind="output",
                subject_id="pepper-triage",
                seat_id=seat_id,
                message="the triage state is two hours old",
            ),
        )
    decide_pending(session)


def _recovered(session: Session, seat_id: str) -> None:
    """An incident left open after its subject recovered (the decision closes, the incident
    waits for its learning)."""
    _open_decision(session, seat_id)
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="recovered",
                occurred_at=utcnow(),
                subject_kind="output",
                subject_id="pepper-triage",
                seat_id=seat_id,
                message="fresh again",
            ),
        )
    decide_pending(session)


def _running_run(session: Session, seat_id: str) -> None:
    with session.store().write() as conn:
        conn.execute(
            insert(runs).values(
                id="nick-prospecting:today",
                process_id="nick-prospecting",
                batch="today",
                seat_id=seat_id,
                status="running",
                stages=["validate", "draft"],
                records_total=1,
                records_digest=hashlib.sha256(b"today").hexdigest(),
                created_at=utcnow(),
            )
        )


# kind -> (seat retired, a change to org.yaml that adds the reference, the store set-up,
#          what the refusal names, the --give key left out (None: a stored reference))
Setup = Callable[[CommentedMap], None] | None
Stored = Callable[[Session, str], None] | None
KINDS: dict[str, tuple[str, Setup, Stored, str, str | None]] = {
    "capability": ("dash", None, None, "capability pacing-monitor", "pacing-monitor"),
    "output": ("dash", None, None, "output ccm-stats (producer)", "output:ccm-stats"),
    "process": ("nick", None, None, "process nick-prospecting", "process:nick-prospecting"),
    "metric": ("tally", None, None, "metric calls-answered (owner)", "metric:calls-answered"),
    "reports": ("client-lead", None, None, "seat pepper reports to it", "reports:pepper"),
    "owner": ("client-lead", None, None, "seat pepper is owned by it", "owner:pepper"),
    "tier": ("coo", None, None, "urgency tier high notifies it", "tier:high"),
    "input": (
        "client-lead",
        None,
        None,
        "seat radar's input pepper-triage escalates to it",
        "input:radar:pepper-triage",
    ),
    "coverage": (
        "client-lead",
        None,
        None,
        "output pepper-triage (coverage_seat)",
        "coverage:pepper-triage",
    ),
    "escalation": (
        "client-lead",
        _add_escalation,
        None,
        "process pepper-triage handled error 'ClientAngry' (escalate_to)",
        "escalate:pepper-triage:1",
    ),
    "rule": (
        "client-lead",
        _add_rule,
        None,
        "urgency tier high's when rule 2 selects it",
        "rule:high:1",
    ),
    "decision": ("client-lead", None, _open_decision, "open decision 1 (stale of output", None),
    "incident": ("client-lead", None, _recovered, "open incident 1 (stale of output", None),
    "run": ("nick", None, _running_run, "run nick-prospecting:today is in progress", None),
}


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(org_syncs)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(org_changes)).scalar_one()),
            int(
                conn.execute(
                    select(func.count()).select_from(hearings).where(hearings.c.status == "open")
                ).scalar_one()
            ),
        )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_dangling_reference_refuses_the_retirement(kind: str, agency: Path, db_url: str) -> None:
    seat_id, setup, stored, named, left_out = KINDS[kind]
    if setup is not None:
        edit_org_file(agency, setup)
    with Session.open(agency, db_url) as session:
        if stored is not None:
            stored(session, seat_id)
        gives = [g for g in complete_gives(session.org(), seat_id) if g.split("=")[0] != left_out]
        open_hearing(session, seat_id)
        before = agency.read_bytes()
        counts = _counts(session.store())
        with pytest.raises(UsageError) as refused:
            decide_hearing(session, seat_id, retire=True, keep=False, gives=gives)
        message = str(refused.value)
        settle = 2 if kind == "decision" else 1  # an open decision comes with its incident
        assert message.startswith(f"seat {seat_id} cannot be retired yet, {settle} to settle: ")
        assert named in message
        if left_out is not None:
            assert f"--give {left_out}=" in message
        assert "\n" not in message
        # Nothing written: neither the file nor the store; the hearing stays open.
        assert agency.read_bytes() == before
        assert _counts(session.store()) == counts
        assert show_hearing(session, seat_id).status == "open"


def _pointing_at(org: Org, seat_id: str) -> list[str]:
    """Every place of the loaded org naming ``seat_id`` as a value, the seat's own entry and
    retirement records (history) aside."""
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "redistributed":
                    walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}.{index}")
        elif value == seat_id:
            found.append(where)

    data = org.model_dump(mode="json")
    for section in ("seats", "outputs", "processes", "urgency", "metrics"):
        for item_id, item in data[section].items():
            if not (section == "seats" and item_id == seat_id):
                walk(item, f"{section}.{item_id}")
    return found


@pytest.mark.parametrize("seat_id", ["dash", "nick", "tally", "coo", "client-lead", "ceo"])
def test_a_complete_retirement_leaves_nothing_pointing_at_the_seat(
    seat_id: str, agency: Path, db_url: str
) -> None:
    edit_org_file(agency, _add_escalation)
    edit_org_file(agency, _add_rule)
    with Session.open(agency, db_url) as session:
        org = session.org()
        assert _pointing_at(org, seat_id) or org.seats[seat_id].capabilities
        gives = complete_gives(org, seat_id)
        if seat_id == "ceo":  # the top seat: the COO takes its place, so reports to nobody
            gives = [g for g in gives if g != "reports:coo=coo"]
            edit_org_file(agency, lambda doc: doc["seats"]["coo"].pop("reports_to"))
            session.forget_org()
        open_hearing(session, seat_id)
        done = decide_hearing(
            session, seat_id, retire=True, keep=False, gives=gives, reason="running on empty"
        )
        after = load_org(agency)
        assert _pointing_at(after, seat_id) == []
        retired = after.seats[seat_id]
        assert retired.status == "retired" and retired.capabilities == []
        assert retired.retired is not None and retired.retired.reason == "running on empty"
        assert retired.retired.redistributed == {
            c: "coo" if seat_id == "ceo" else "ceo" for c in org.seats[seat_id].capabilities
        }
        for capability in org.seats[seat_id].capabilities:
            assert capability in after.seats["coo" if seat_id == "ceo" else "ceo"].capabilities
        assert done.hearing.status == "decided" and done.outcome == "retire"
        assert session.org().seats[seat_id].status == "retired"  # the session sees the edit


def test_the_edit_keeps_comments_is_shown_as_a_diff_and_recorded(agency: Path, db_url: str) -> None:
    before = agency.read_text()
    comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    gives = [
        "client-ad-analysis=dan",
        "spend-anomaly-detection=dan",
        "pacing-monitor=crystal",
        "output:dash-analysis=crystal",
        "output:ccm-stats=crystal",
    ]
    with Session.open(agency, db_url) as session:
        opened = open_hearing(session, "dash")
        done = decide_hearing(
            session, "dash", retire=True, keep=False, gives=gives, reason="no clients left"
        )
        after = agency.read_text()
        kept = [line.strip() for line in after.splitlines() if line.strip().startswith("#")]
        assert kept == comments
        assert "    timestamp: generated_at           # where the time of the data lives" in after
        diff = done.diff.splitlines()
        assert diff[0].startswith("---") and diff[1].startswith("+++")
        assert "-    producer: dash" in diff and "+    producer: crystal" in diff
        assert (
            "-    capabilities: [client-ad-analysis, spend-anomaly-detection, pacing-monitor]"
            in diff
        )
        assert "+    status: retired" in diff and "+      reason: no clients left" in diff
        assert (
            "+    capabilities: [blind-spot-analysis, client-ad-analysis, spend-anomaly-detection]"
            in diff
        )
        changed = {line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")}
        removed = {line[1:] for line in changed if line.startswith("-")}
        assert not any(line.strip().startswith("#") for line in removed)
        # Recorded: the sync that holds the change, its cause, and the hearing's verdict.
        assert done.sync_id is not None and done.hearing.sync_id == done.sync_id
        with session.store().read() as conn:
            sync = conn.execute(select(org_syncs).where(org_syncs.c.id == done.sync_id)).one()
            changes = {
                (r.entity, r.entity_id)
                for r in conn.execute(
                    select(org_changes).where(org_changes.c.sync_id == done.sync_id)
                )
            }
        assert sync.cause == f"hearing {opened.id}: retired seat dash"
        assert {("seat", "dash"), ("output", "dash-analysis"), ("output", "ccm-stats")} <= changes
        verdict = show_hearing(session, "dash").verdict
        assert verdict is not None and verdict["outcome"] == "retire"
        assert verdict["gives"]["output:ccm-stats"] == "crystal"
        assert verdict["redistributed"] == {
            "client-ad-analysis": "dan",
            "spend-anomaly-detection": "dan",
            "pacing-monitor": "crystal",
        }
        assert opened.evidence["seat"] == "dash"


def test_a_receiving_seat_must_be_active_and_a_person_where_one_is_needed(
    agency: Path, db_url: str
) -> None:
    with Session.open(agency, db_url) as session:
        open_hearing(session, "client-lead")
        gives = complete_gives(session.org(), "client-lead")
        swaps = {
            "owner:pepper=nick": "nick is an agent",
            "reports:pepper=jeff": "jeff is retired",
            "coverage:pepper-triage=nobody": "nobody is not a seat",
            "client-exceptions=client-lead": "gives it back to the seat retired",
            "output:nick-pipeline=ceo": "names nothing that points at client-lead",
        }
        for swap, said in swaps.items():
            key = swap.split("=")[0]
            attempt = [g for g in gives if g.split("=")[0] != key] + [swap]
            with pytest.raises(UsageError, match=said):
                decide_hearing(session, "client-lead", retire=True, keep=False, gives=attempt)
        assert load_org(agency).seats["client-lead"].status == "active"


def test_keep_open_twice_and_who_may_decide(agency: Path, db_url: str) -> None:
    with Session.open(agency, db_url) as session:
        with pytest.raises(UsageError, match="no open hearing"):
            decide_hearing(session, "dash", retire=False, keep=True, reason="busy")
        with pytest.raises(PermissionDenied):
            open_hearing(session, "dash", actor="nick")
        opened = open_hearing(session, "dash", actor="coo")
        assert opened.opened_by == "coo" and opened.status == "open"
        with pytest.raises(UsageError, match="already has open hearing"):
            open_hearing(session, "dash")
        with pytest.raises(UsageError, match="--reason"):
            decide_hearing(session, "dash", retire=False, keep=True)
        with pytest.raises(UsageError, match="exactly one"):
            decide_hearing(session, "dash", retire=True, keep=True)
        before = agency.read_bytes()
        kept = decide_hearing(
            session, "dash", retire=False, keep=True, reason="Q3 clients arrive", actor="ceo"
        )
        assert kept.outcome == "keep" and kept.diff == "" and kept.sync_id is None
        assert kept.hearing.status == "decided" and kept.hearing.decided_by == "ceo"
        assert agency.read_bytes() == before
        assert open_hearing(session, "dash").id != opened.id  # a new hearing may open later
        with pytest.raises(UsageError, match="already retired"):
            open_hearing(session, "jeff")


def test_a_retired_seats_processes_stop_raising_its_failures(agency: Path, db_url: str) -> None:
    from orgplane.service.decisions import sweep_runs
    from orgplane.service.health import current_findings
    from orgplane.store.tables import events

    with Session.open(agency, db_url) as session:
        open_hearing(session, "nick")
        gives = complete_gives(session.org(), "nick")
        gives = [
            g.replace("process:nick-prospecting=ceo", "process:nick-prospecting=radar").replace(
                "output:nick-pipeline=ceo", "output:nick-pipeline=dash"
            )
            for g in gives
        ]
        held = add_run(
            session.store(), "nick-prospecting", "nick", "held", utcnow(), ["held"], status="held"
        )
        done = add_run(session.store(), "nick-prospecting", "nick", "done", utcnow(), ["done"])
        decided = decide_hearing(session, "nick", retire=True, keep=False, gives=gives)
        # Its unfinished run went with the process; the finished one keeps its history.
        assert decided.hearing.verdict is not None
        assert decided.hearing.verdict["runs_moved"] == {"radar": [held]}
        with session.store().read() as conn:
            stored = dict(conn.execute(select(runs.c.id, runs.c.seat_id)).all())
        assert stored == {held: "radar", done: "nick"}
        # A run stored under Nick before he retired, whose worker then died: a stall of the
        # process Radar runs now, told as Radar's, never as the retired seat's.
        long_ago = utcnow() - timedelta(hours=2)
        _running_run(session, "nick")
        with session.store().write() as conn:
            conn.execute(
                insert(run_records).values(
                    run_id="nick-prospecting:today",
                    seq=0,
                    key="p1",
                    input={"id": "p1"},
                    state="active",
                    lease_owner="worker-dead",
                    lease_until=long_ago,
                )
            )
        assert sweep_runs(session) == 1
        with session.store().read() as conn:
            seats = {row.seat_id for row in conn.execute(select(events.c.seat_id))}
        assert seats == {"radar"}
        # The outputs it produced are watched as their new producer's.
        findings = current_findings(session).findings
        assert {f.seat for f in findings if f.subject_id == "nick-pipeline"} == {"dash"}
        assert not [f for f in findings if f.seat == "nick"]
        assert next(s for s in seats_health(session).seats if s.seat == "nick").status == (
            "retired"
        )


@given(
    key=st.text(min_size=1).filter(lambda k: "=" not in k and k.strip() == k and k),
    seat=st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
)
def test_a_give_parses_back_to_its_key_and_seat(key: str, seat: str) -> None:
    assert parse_gives([f"{key}={seat}"]) == {key: seat}


@given(st.text().filter(lambda v: "=" not in v))
def test_a_give_without_a_seat_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match="is not KEY=SEAT"):
        parse_gives([value])


def test_a_give_twice_to_two_seats_is_refused() -> None:
    assert parse_gives(["a=b", "a=b"]) == {"a": "b"}
    with pytest.raises(UsageError, match="given twice"):
        parse_gives(["a=b", "a=c"])


def test_a_retirement_whose_verdict_was_lost_is_closed_from_the_file(
    agency: Path, db_url: str
) -> None:
    """The edit is written before the verdict is stored: a process killed between the two
    leaves org.yaml retiring the seat and its hearing open; deciding again closes it as such."""
    from orgplane.learn.hearings import plan_retirement, retire_in_document

    with Session.open(agency, db_url) as session:
        opened = open_hearing(session, "amanda")
        plan = plan_retirement(session.org(), "amanda", {"inbound-calls": "erica"}, [])
        edit_org_file(
            agency, lambda doc: retire_in_document(doc, plan, utcnow().date(), "calls moved")
        )
        session.forget_org()
        with pytest.raises(UsageError, match="is retired in"):
            decide_hearing(session, "amanda", retire=False, keep=True, reason="no")
        done = decide_hearing(session, "amanda", retire=True, keep=False)
        assert done.hearing.id == opened.id and done.hearing.status == "decided"
        assert done.hearing.verdict is not None
        assert done.hearing.verdict["found_in_org_file"] is True
        assert done.hearing.verdict["redistributed"] == {"inbound-calls": "erica"}
