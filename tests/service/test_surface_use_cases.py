"""The use cases added for the HTTP API and MCP server: seats, the not-ok findings,
reporting a failure, the publish limit, the store's figures and tokens; on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from orgplane.errors import NotFoundError, PermissionDenied, UsageError
from orgplane.service.decisions import decide_pending
from orgplane.service.failures import report_failure
from orgplane.service.health import current_findings
from orgplane.service.runs import checkpoint, start_run
from orgplane.service.seats import list_seats
from orgplane.service.session import Session
from orgplane.service.telemetry import LATENCY_BUCKETS_MS, store_figures
from orgplane.service.tokens import create_token, list_tokens, seat_for_token, token_hash
from orgplane.service.uploads import publish_limit
from orgplane.store.tables import events
from tests.service.test_reads_write_nothing import dump, write_transactions


@pytest.fixture
def session(agency: Path, db_url: str, tmp_path: Path) -> Iterator[Session]:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}]))
    with Session.open(agency, db_url) as opened:
        start_run(opened, "pepper-triage", batch, batch="r1")
        yield opened


def test_seats_are_listed_in_file_order_with_what_each_works_with(session: Session) -> None:
    listed = list_seats(session)
    assert [s.id for s in listed.seats] == list(session.org().seats)
    nick = next(s for s in listed.seats if s.id == "nick")
    assert nick.outputs == ["nick-pipeline"]
    assert nick.processes == ["nick-prospecting"]


def test_a_reported_failure_is_an_event_for_the_owner_seat(session: Session) -> None:
    done = report_failure(
        session, "corrupt", "output", "nick-pipeline", "  wrote half a file  ", actor="nick"
    )
    assert (done.seat_id, done.kind, done.message) == ("nick", "corrupt", "wrote half a file")
    with session.store().read() as conn:
        row = conn.execute(select(events).where(events.c.id == done.event_id)).mappings().one()
    assert row["visible"] is True
    assert row["details"] == {"reported_by": "nick"}
    assert decide_pending(session).decided == 1


def test_a_failure_is_reported_only_by_its_seat_and_with_a_message(session: Session) -> None:
    err = "unhandled_error"
    with pytest.raises(PermissionDenied, match="pepper"):
        report_failure(session, err, "process", "pepper-triage", "x", actor="nick")
    with pytest.raises(PermissionDenied):
        report_failure(session, err, "run", "pepper-triage:r1", "x", actor="ceo")
    with pytest.raises(NotFoundError, match="run list"):
        report_failure(session, err, "run", "no:such", "x")
    with pytest.raises(UsageError, match="empty"):
        report_failure(session, err, "process", "pepper-triage", "   ")
    with pytest.raises(UsageError, match="cannot be reported"):
        report_failure(session, "recovered", "process", "pepper-triage", "x")  # type: ignore[arg-type]
    with session.store().read() as conn:
        assert conn.execute(select(events)).all() == []


def test_current_findings_keep_only_what_is_not_ok_on_request(session: Session) -> None:
    everything = current_findings(session)
    not_ok = current_findings(session, not_ok_only=True, now=everything.checked_at)
    assert not_ok.counts == everything.counts and not_ok.ok == everything.ok
    assert [f.subject_id for f in not_ok.findings] == [
        f.subject_id for f in everything.findings if not f.ok
    ]


def test_the_publish_limit_is_the_producer_s_to_ask(session: Session) -> None:
    limit = publish_limit(session, "nick-pipeline", actor="nick")
    assert limit.max_bytes == session.org().outputs["nick-pipeline"].max_bytes
    with pytest.raises(PermissionDenied):
        publish_limit(session, "nick-pipeline", actor="pepper")
    with pytest.raises(NotFoundError):
        publish_limit(session, "nothing", actor="nick")


def test_the_store_figures_count_what_is_stored(session: Session, db_url: str) -> None:
    checkpoint(session, "pepper-triage:r1", "m1", "fetch", done=True)
    report_failure(session, "crash", "run", "pepper-triage:r1", "Gmail is down")
    decide_pending(session)
    before = dump(db_url)
    with write_transactions() as begun:
        figures = store_figures(session)
    assert begun == [] and dump(db_url) == before
    assert figures.runs_by_state == {"running": 1}
    assert figures.checkpoints_by_status == {"done": 1}
    assert figures.events_by_kind == {"crash": 1}
    assert sum(figures.decisions_by_action.values()) == 1 == figures.open_decisions
    assert sum(figures.outputs_by_status.values()) == len(session.org().outputs)
    histogram = figures.decision_latency
    assert histogram.count == 1
    assert [b for b, _ in histogram.buckets] == list(LATENCY_BUCKETS_MS)
    counts = [n for _, n in histogram.buckets]
    assert counts == sorted(counts) and counts[-1] <= 1


def test_a_token_resolves_to_its_seat_and_is_stored_as_a_hash(session: Session) -> None:
    made = create_token(session, "ceo")
    assert made.token.startswith(f"orgplane_{made.prefix}_")
    assert len(made.token.split("_", 2)[2]) == 43  # 256 bits, base64url
    assert seat_for_token(session, made.token) == "ceo"
    (listed,) = list_tokens(session).tokens
    assert listed.prefix == made.prefix and not listed.revoked
    assert token_hash(made.token) != made.token
    assert create_token(session, "ceo").token != made.token


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(max_size=120)
    | st.from_regex(r"orgplane_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", fullmatch=True)
)
def test_no_text_but_a_real_token_resolves(session: Session, text: str) -> None:
    assert seat_for_token(session, text) is None
