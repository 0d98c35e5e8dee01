"""Follow-ups of learnings: once due, the owner (an agent's owner) is nagged through the outbox
exactly once per repeat period, to a real local receiver, and the follow-up shows as overdue
until it is marked done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from orgplane.errors import PermissionDenied, UsageError
from orgplane.learn.follow_ups import NAG_EVERY
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.daemon import sender_steps
from orgplane.service.decisions import decide_once
from orgplane.service.incidents import (
    close_incident,
    follow_up_done,
    incident_change,
    list_follow_ups,
    list_incidents,
    nag_follow_ups,
)
from orgplane.service.notifications import deliver_due, list_notifications
from orgplane.service.session import Session
from orgplane.store.types import utcnow
from tests.respond.receiver import Receiver, receiving
from tests.surfaces.cli_helpers import orgplane

ORG = """name: T
seats:
  coo: {{title: COO, kind: human, notify_urls: ["{coo}"]}}
  bot: {{title: Bot, kind: agent, owner: coo, reports_to: coo}}
outputs:
  out: {{producer: bot, urgency: quiet}}
urgency:
  quiet: {{deadline: 1h, action: skip_and_flag}}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def session(tmp_path: Path, db_url: str, receiver: Receiver) -> Iterator[Session]:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG.format(coo=receiver.url("ok-coo")))
    with Session.open(org_file, db_url) as opened:
        yield opened


def _overdue_follow_up(session: Session) -> int:
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="stale",
                occurred_at=utcnow(),
                subject_kind="output",
                subject_id="out",
                seat_id="bot",
                message="out is stale",
            ),
        )
    decide_once(session)
    [incident] = list_incidents(session, open_only=True).incidents
    closed = close_incident(
        session,
        incident.id,
        "the source sheet moves every quarter",
        incident_change(follow_up="point bot at the new sheet", owner="bot", due="2020-01-01"),
    )
    assert closed.follow_up is not None and closed.follow_up.overdue
    return closed.follow_up.id


def test_an_overdue_follow_up_is_nagged_once_per_period_until_done(
    session: Session, receiver: Receiver
) -> None:
    follow_up_id = _overdue_follow_up(session)
    first = decide_once(session)  # what cron runs: the nag is queued and sent
    assert first.nagged == 1 and first.delivered is not None and first.delivered.sent == 1
    [(path, body)] = receiver.posts
    assert path == "ok-coo"  # bot is an agent: its owner is told
    assert f"follow-up {follow_up_id}" in body["title"]
    assert "point bot at the new sheet" in body["message"]
    assert f"follow-up done {follow_up_id}" in body["message"]
    [sent] = list_notifications(session).notifications
    assert (sent.decision_id, sent.follow_up_id, sent.reason) == (None, follow_up_id, "follow_up")

    # Within the period: nothing more, however often the sender runs.
    for _ in range(3):
        assert decide_once(session).nagged == 0
    assert len(receiver.posts) == 1

    # A period later: exactly one more.
    later = utcnow() + NAG_EVERY + timedelta(minutes=1)
    assert nag_follow_ups(session, now=later).nagged == 1
    assert nag_follow_ups(session, now=later).nagged == 0
    assert deliver_due(session, now=later).sent == 1
    assert len(receiver.posts) == 2 and "Reminder 2" in receiver.posts[1][1]["message"]

    [overdue] = list_follow_ups(session, overdue=True).follow_ups
    assert (overdue.id, overdue.nags) == (follow_up_id, 2)
    assert orgplane("--org", str(session.org_path), "--db", session.store().engine.url.render_as_string(hide_password=False), "follow-ups", "--overdue").returncode == 1  # fmt: skip

    with pytest.raises(PermissionDenied):
        follow_up_done(session, follow_up_id, actor="nobody")
    done = follow_up_done(session, follow_up_id, "moved to the new sheet", actor="coo")
    assert (done.done_by, done.done_note, done.overdue) == ("coo", "moved to the new sheet", False)
    assert list_follow_ups(session, overdue=True).follow_ups == []
    assert nag_follow_ups(session, now=later + 3 * NAG_EVERY).nagged == 0
    with pytest.raises(UsageError, match="already done"):
        follow_up_done(session, follow_up_id)
    assert len(list_follow_ups(session, include_done=True).follow_ups) == 1


def test_the_daemons_sender_nags_follow_ups() -> None:
    names = [step.__name__ for step in sender_steps()]
    assert names.index("nag_follow_ups") < names.index("deliver_due")
    assert "nag_follow_ups" in [step.__name__ for step in sender_steps(send=False)]
