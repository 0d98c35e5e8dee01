"""Notifications end to end on a real store, real Apprise and a real local HTTP receiver:
queued with their decision, sent once, each target's result kept, failures retried with
backoff, a target that never answers holding up nobody else, and the follow-ups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from orgplane.respond.decisions import acknowledge
from orgplane.respond.events import FailureEvent, record_event
from orgplane.respond.outbox import RetryPolicy, attempts_of
from orgplane.service.decisions import decide_once, decide_pending, show_decision
from orgplane.service.notifications import deliver_due, follow_up, list_notifications
from orgplane.service.session import Session
from orgplane.store.tables import notifications
from orgplane.store.types import utcnow
from tests.respond.receiver import Receiver, receiving

ORG = """name: T
seats:
  ceo: {{title: CEO, kind: human, notify_urls: ["{ceo}"]}}
  coo: {{title: COO, kind: human, reports_to: ceo, notify_urls: ["{coo}"]}}
  lead: {{title: Lead, kind: human, reports_to: coo, notify_urls: ["{lead}"]}}
  bot: {{title: Bot, kind: agent, owner: lead, reports_to: lead}}
  bot2: {{title: Bot 2, kind: agent, owner: coo, reports_to: coo}}
outputs:
  out: {{producer: bot, urgency: page}}
  other: {{producer: bot2, urgency: page}}
  slow: {{producer: bot, urgency: later}}
urgency:
  page: {{deadline: 1h, action: escalate, repeat: 15m, ack_timeout: 30m}}
  later: {{deadline: 2h, action: wait}}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def _session(tmp_path: Path, db_url: str, receiver: Receiver, **paths: str) -> Session:
    urls = {seat: receiver.url(paths.get(seat, f"ok-{seat}")) for seat in ("ceo", "coo", "lead")}
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG.format(**urls))
    return Session.open(org_file, db_url)


def _fail(
    session: Session, subject: str = "out", kind: str = "stale", at: datetime | None = None
) -> None:
    event = FailureEvent(
        kind=kind,  # type: ignore[arg-type]
        occurred_at=at or utcnow(),
        subject_kind="output",
        subject_id=subject,
        message=f"{subject} is {kind}",
    )
    with session.store().write() as conn:
        record_event(conn, event)


@pytest.fixture
def session(tmp_path: Path, db_url: str, receiver: Receiver) -> Iterator[Session]:
    with _session(tmp_path, db_url, receiver) as opened:
        yield opened


def test_an_escalation_is_delivered_with_its_text(session: Session, receiver: Receiver) -> None:
    _fail(session)
    done = decide_once(session)
    assert done.opened == 1 and done.delivered is not None and done.delivered.sent == 1
    [(path, body)] = receiver.posts
    assert path == "ok-lead"
    decision = done.decisions[0]
    for part in (
        f"Decision {decision.id}: stale of output out, seat bot",
        "Tier: page, action escalate",
        "Deadline: ",
        f"Acknowledge: orgplane --org {session.org_path} decision ack {decision.id}",
    ):
        assert part in body["message"], part
    assert f"decision {decision.id}" in body["title"]
    [sent] = list_notifications(session).notifications
    assert (sent.status, sent.recipient, sent.reason, sent.attempts) == (
        "sent",
        "lead",
        "opened",
        1,
    )
    [target] = sent.targets
    assert target.status == "success" and target.target.endswith("/ok-lead")
    assert show_decision(session, decision.id).notifications == [sent]
    # a repeat of the open decision queues nothing: the open one covers it
    _fail(session)
    again = decide_once(session)
    assert again.repeated == 1 and again.delivered is not None and again.delivered.claimed == 0
    assert len(receiver.posts) == 1


def test_a_failing_receiver_is_retried_with_backoff_then_succeeds(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    with _session(tmp_path, db_url, receiver, lead="bad-lead") as session:
        _fail(session)
        decide_pending(session)
        t0 = utcnow()
        first = deliver_due(session, now=t0)
        assert (first.claimed, first.retrying) == (1, 1)
        [row] = first.notifications
        assert row.status == "retrying" and row.targets[0].status == "failure"
        assert "500" in (row.targets[0].detail or "")
        assert row.next_attempt_at == t0 + timedelta(seconds=30)
        assert deliver_due(session, now=t0 + timedelta(seconds=29)).claimed == 0  # not due yet
        second = deliver_due(session, now=t0 + timedelta(seconds=30))
        assert second.notifications[0].next_attempt_at == t0 + timedelta(seconds=90)  # doubled
        third = deliver_due(session, now=t0 + timedelta(seconds=90))
        assert third.sent == 1 and receiver.paths() == ["bad-lead"]
        with session.store().read() as conn:
            statuses = [a["status"] for a in attempts_of(conn, row.id)]
        assert statuses == ["failure", "failure", "success"]  # every attempt kept


def test_after_the_last_attempt_a_notification_is_failed_and_listed(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    receiver.fail_first = 10
    policy = RetryPolicy(base=timedelta(seconds=1), max_attempts=2)
    with _session(tmp_path, db_url, receiver, lead="bad-lead") as session:
        _fail(session)
        decide_pending(session)
        t0 = utcnow()
        deliver_due(session, now=t0, policy=policy)
        last = deliver_due(session, now=t0 + timedelta(seconds=1), policy=policy)
        assert last.failed == 1
        assert deliver_due(session, now=t0 + timedelta(days=1), policy=policy).claimed == 0
        [failed] = list_notifications(session, failed=True).notifications
        assert failed.status == "failed" and failed.attempts == 2 and failed.next_attempt_at is None


def test_a_target_that_never_answers_holds_up_no_other(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    with _session(tmp_path, db_url, receiver, lead="hang-lead") as session:
        _fail(session, "out")  # told to lead, who never answers
        _fail(session, "other")  # told to coo, who answers
        decide_pending(session)
        done = deliver_due(session, timeout=1.0)
        assert (done.claimed, done.sent, done.retrying) == (2, 1, 1)
        by_recipient = {n.recipient: n for n in done.notifications}
        hung, good = by_recipient["lead"], by_recipient["coo"]
        assert hung.targets[0].status == "timeout" and good.status == "sent"
        # the good one was stored as sent before the hung one's timeout ended
        assert good.sent_at is not None and good.sent_at < hung.targets[0].finished_at
        assert receiver.paths() == ["ok-coo"]


def test_two_deliverers_send_each_notification_once(
    tmp_path: Path, db_url: str, receiver: Receiver
) -> None:
    with _session(tmp_path, db_url, receiver) as setup:
        for i in range(12):
            _fail(setup, "out" if i % 2 else "other", kind=("stale", "corrupt", "missing")[i % 3])
        opened = decide_pending(setup).opened
    senders = [_session(tmp_path, db_url, receiver) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(session: Session) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                deliver_due(session, limit=2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for s in senders:
        s.close()
    assert errors == []
    bodies = [b["title"] for _, b in receiver.posts]
    assert len(bodies) == opened and len(set(bodies)) == opened


COUNTER = iter(range(1_000_000))


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(callers=st.integers(min_value=1, max_value=4))
def test_one_event_one_decision_one_notification(
    tmp_path: Path, db_url: str, receiver: Receiver, callers: int
) -> None:
    """However many callers decide, follow up and deliver at once: one notification each."""
    with _session(tmp_path, db_url, receiver) as setup:
        kind = ("stale", "corrupt", "missing", "frozen", "invalid", "empty_input")[
            next(COUNTER) % 6
        ]
        before = len(receiver.posts)
        with setup.store().read() as conn:
            queued_before = conn.execute(select(func.count()).select_from(notifications)).scalar()
        _fail(setup, "out", kind=kind)
    sessions = [_session(tmp_path, db_url, receiver) for _ in range(callers)]
    barrier = threading.Barrier(callers)
    errors: list[BaseException] = []

    def work(session: Session) -> None:
        try:
            barrier.wait()
            decide_once(session)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with sessions[0].store().read() as conn:
        queued = conn.execute(select(func.count()).select_from(notifications)).scalar()
    for s in sessions:
        s.close()
    assert queued == (queued_before or 0) + 1
    assert len(receiver.posts) == before + 1


def _reasons(session: Session, now: datetime) -> list[tuple[str | None, str | None, int]]:
    return [(s.reason, s.recipient, s.level) for s in follow_up(session, now=now).steps]


def test_repeat_then_escalation_up_the_line_to_the_top_and_no_further(session: Session) -> None:
    t0 = utcnow()
    _fail(session, at=t0)
    decide_pending(session)  # told to lead now; deadline t0 + 1h, repeat every 15m
    assert _reasons(session, t0 + timedelta(minutes=10)) == []
    assert _reasons(session, t0 + timedelta(minutes=16)) == [("repeat", "lead", 0)]
    assert _reasons(session, t0 + timedelta(minutes=20)) == []
    assert _reasons(session, t0 + timedelta(minutes=61)) == [("escalated", "coo", 1)]
    assert _reasons(session, t0 + timedelta(minutes=62)) == []
    assert _reasons(session, t0 + timedelta(minutes=122)) == [("escalated", "ceo", 2)]
    # the top of the chart: repeats, never a level 3
    assert _reasons(session, t0 + timedelta(minutes=190)) == [("repeat", "ceo", 2)]
    assert _reasons(session, t0 + timedelta(minutes=300)) == [("repeat", "ceo", 2)]
    told = [(n.reason, n.recipient) for n in reversed(list_notifications(session).notifications)]
    assert told == [
        ("opened", "lead"),
        ("repeat", "lead"),
        ("escalated", "coo"),
        ("escalated", "ceo"),
        ("repeat", "ceo"),
        ("repeat", "ceo"),
    ]
    escalated = [n for n in list_notifications(session).notifications if n.reason == "escalated"]
    assert "from coo, level 2" in escalated[0].body and "Acknowledge: orgplane" in escalated[0].body


def test_an_ack_silences_until_it_expires_then_exactly_one_resend(session: Session) -> None:
    t0 = utcnow()
    _fail(session, at=t0)
    [decision] = decide_pending(session).decisions
    with session.store().write() as conn:
        acknowledge(conn, session.org(), decision.id, "on it", now=t0 + timedelta(minutes=5))
    # silenced for the tier's ack_timeout (30m): no repeat at 20m, nothing at 34m
    assert _reasons(session, t0 + timedelta(minutes=20)) == []
    assert _reasons(session, t0 + timedelta(minutes=34)) == []
    assert _reasons(session, t0 + timedelta(minutes=35)) == [("ack_expired", "lead", 0)]
    assert _reasons(session, t0 + timedelta(minutes=36)) == []
    assert _reasons(session, t0 + timedelta(minutes=50)) == [("repeat", "lead", 0)]


def test_a_wait_escalates_at_its_deadline_unless_recovered(session: Session) -> None:
    t0 = utcnow()
    _fail(session, "slow", at=t0)
    decide_pending(session)
    assert list_notifications(session).notifications == []  # wait: nobody is told yet
    assert _reasons(session, t0 + timedelta(minutes=119)) == []
    assert _reasons(session, t0 + timedelta(minutes=121)) == [("deadline", "lead", 0)]
    [told] = list_notifications(session).notifications
    assert told.reason == "deadline" and "deadline passed" in told.body
    # a recovered wait never escalates
    _fail(session, "slow", kind="recovered")
    decide_pending(session)
    _fail(session, "slow", kind="corrupt", at=t0)
    decide_pending(session)
    _fail(session, "slow", kind="recovered")
    decide_pending(session)
    assert _reasons(session, t0 + timedelta(hours=5)) == []


def test_variables_are_read_from_the_environment_when_sent(
    tmp_path: Path, db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _session(tmp_path, db_url, receiver, lead="ok-${LEAD_PATH}") as session:
        monkeypatch.delenv("LEAD_PATH", raising=False)
        _fail(session)
        decide_pending(session)
        t0 = utcnow()
        missing = deliver_due(session, now=t0)
        [target] = missing.notifications[0].targets
        assert target.status == "error" and "LEAD_PATH is not set" in (target.detail or "")
        assert target.target.endswith("ok-${LEAD_PATH}")  # as written: no value stored
        monkeypatch.setenv("LEAD_PATH", "secret-part")
        assert deliver_due(session, now=t0 + timedelta(minutes=1)).sent == 1
        assert receiver.paths() == ["ok-secret-part"]
        with session.store().read() as conn:
            stored = attempts_of(conn, missing.notifications[0].id)
        assert all("secret-part" not in (a["target"] + (a["detail"] or "")) for a in stored)


def test_a_row_claimed_by_a_sender_that_died_is_sent_once_its_claim_expires(
    session: Session, receiver: Receiver
) -> None:
    from orgplane.respond.outbox import claim_due

    _fail(session)
    decide_pending(session)
    t0, policy = utcnow(), RetryPolicy()
    with session.store().write() as conn:  # a sender claims the row, then is killed
        [claimed] = claim_due(conn, "dead-sender", t0, limit=10, policy=policy)
    assert claimed["attempts"] == 1 and claimed["claimed_by"] == "dead-sender"
    assert deliver_due(session, now=t0 + policy.lease - timedelta(seconds=1)).claimed == 0
    late = deliver_due(session, now=t0 + policy.lease)
    assert late.sent == 1 and late.notifications[0].attempts == 2
    assert receiver.paths() == ["ok-lead"]


def test_a_recovery_cancels_what_was_not_sent_and_stops_follow_ups(
    session: Session, receiver: Receiver
) -> None:
    t0 = utcnow()
    _fail(session, at=t0)
    decide_pending(session)
    _fail(session, kind="recovered")
    decide_pending(session)
    done = deliver_due(session)
    assert done.claimed == 0 and receiver.posts == []
    [cancelled] = list_notifications(session).notifications
    assert cancelled.status == "cancelled"
    assert _reasons(session, t0 + timedelta(hours=9)) == []  # closed: never followed up
