"""Follow-ups of open decisions: re-send, climb the reporting line, re-notify after an ack.

Each decision carries its follow-up state: ``holder`` (the seat last told), ``level`` (steps
up the chart from the first person told), ``notified_at``, ``next_notify_at`` (when a follow-up
is next due) and ``followups`` (steps taken). A step is taken by compare-and-set on
``followups`` and its message queued in the same transaction, so however many callers run
:func:`follow_up` at once, each step happens once and queues one message.

The rules, for an open decision whose ``next_notify_at`` has come:

- acknowledged and not expired: nothing is sent until ``acked_until``;
- a ``wait`` whose deadline passed without a recovery: its person is told (``deadline``);
- an acknowledgement expired while it is still open: told once again (``ack_expired``) and a
  fresh deadline starts;
- past its deadline: one step up ``reports_to`` of the seat last told (``escalated``), a new
  deadline of the tier's length; at the top of the chart it stays there;
- else every ``repeat`` of its tier: told again (``repeat``).

Closed decisions are never followed up (a recovery clears ``next_notify_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, select, update

from orgplane.org.models import Org, UrgencyTier
from orgplane.respond.messages import compose
from orgplane.respond.outbox import enqueue, enqueue_many
from orgplane.store.tables import decisions, runs

AckCommand = Callable[[int], str]
"""Builds the exact command that acknowledges decision N (the service layer passes one that
names the org file; the default names none)."""


def default_command(decision_id: int) -> str:
    return f"orgplane decision ack {decision_id}"


BATCH = 500
"""Decisions followed up per transaction."""


@dataclass(frozen=True)
class Step:
    """One follow-up taken: the decision, why, who was told (None: nobody, only rescheduled)."""

    decision_id: int
    reason: str | None
    recipient: str | None
    level: int
    notification_id: int | None


def opening_state(
    org: Org,
    action: str,
    tier: UrgencyTier | None,
    notify: str | None,
    deadline: datetime,
    at: datetime,
) -> dict[str, Any]:
    """The follow-up columns of a decision as it opens: an escalation is told now (its first
    step), a ``wait`` is looked at again at its deadline, other actions never."""
    if action == "escalate":
        return {
            "holder": notify,
            "level": 0,
            "notified_at": at,
            "next_notify_at": _next(org, tier, notify, deadline, at),
            "followups": 1,
        }
    if action == "wait":
        return {
            "holder": None,
            "level": 0,
            "notified_at": None,
            "next_notify_at": deadline,
            "followups": 0,
        }
    return {"holder": None, "level": 0, "notified_at": None, "next_notify_at": None, "followups": 0}


def queue_opened(
    conn: Connection,
    opened: Sequence[tuple[Mapping[str, Any], str | None]],
    at: datetime,
    command: AckCommand,
) -> None:
    """Queue the first message of each escalation just opened (its row of values with its
    ``id``, and the process of a run's), in one statement for the batch."""
    enqueue_many(
        conn,
        [
            _message(row, "opened", row["notify"], 0, row["deadline"], at, command, process, 1)
            for row, process in opened
        ],
    )


def follow_up(
    conn: Connection,
    org: Org,
    now: datetime,
    *,
    command: AckCommand = default_command,
    limit: int = BATCH,
) -> list[Step]:
    """Take every follow-up due at ``now`` (up to ``limit`` decisions), inside the caller's
    transaction; a step another caller took first is skipped."""
    due = conn.execute(
        select(decisions, runs.c.process_id)
        .select_from(decisions.outerjoin(runs, runs.c.id == decisions.c.subject_id))
        .where(decisions.c.status == "open")
        .where(decisions.c.next_notify_at <= now)
        .order_by(decisions.c.next_notify_at, decisions.c.id)
        .limit(limit)
    ).all()
    steps = []
    for found in due:
        row = dict(found._mapping)
        process_id = row.pop("process_id") if row["subject_kind"] == "run" else None
        row.pop("process_id", None)
        step = _step(conn, org, row, now, command, process_id)
        if step is not None:
            steps.append(step)
    return steps


def escalate(
    conn: Connection,
    org: Org,
    decision_id: int,
    now: datetime,
    *,
    reason: str = "attempts",
    command: AckCommand = default_command,
) -> Step | None:
    """Hand an open decision to a person now (``resume`` whose attempts ran out): its
    recipient is told and the follow-up rules apply from here. None when it is closed or
    another caller escalated it first."""
    found = conn.execute(
        select(decisions, runs.c.process_id)
        .select_from(decisions.outerjoin(runs, runs.c.id == decisions.c.subject_id))
        .where(decisions.c.id == decision_id)
    ).first()
    if found is None or found.status != "open":
        return None
    row = dict(found._mapping)
    process_id = row.pop("process_id") if row["subject_kind"] == "run" else None
    row.pop("process_id", None)
    tier = _tier(org, row)
    deadline = now + (tier.deadline if tier else timedelta(0))
    return _take(conn, org, row, now, command, process_id, reason, row["notify"], 0, deadline)


def _step(
    conn: Connection,
    org: Org,
    row: dict[str, Any],
    now: datetime,
    command: AckCommand,
    process_id: str | None,
) -> Step | None:
    tier = _tier(org, row)
    span = tier.deadline if tier else timedelta(0)
    take = partial(_take, conn, org, row, now, command, process_id)
    acked_until = row["acked_until"]
    if acked_until is not None and acked_until > now:
        return _reschedule(conn, row, acked_until)
    if row["holder"] is None:
        if row["action"] == "wait" and now >= row["deadline"]:
            return take("deadline", row["notify"], 0, now + span)
        return _reschedule(conn, row, row["deadline"] if row["action"] == "wait" else None)
    told_since_ack = (
        row["notified_at"] is not None
        and acked_until is not None
        and row["notified_at"] >= acked_until
    )
    if acked_until is not None and not told_since_ack:
        return take("ack_expired", row["holder"], row["level"], now + span)
    if tier is not None and now >= row["deadline"]:
        above = _above(org, row["holder"])
        if above is not None:
            return take("escalated", above, row["level"] + 1, now + span)
    repeat = tier.repeat if tier else None
    if repeat and row["notified_at"] is not None and now >= row["notified_at"] + repeat:
        return take("repeat", row["holder"], row["level"], row["deadline"])
    return _reschedule(
        conn, row, _next(org, tier, row["holder"], row["deadline"], row["notified_at"])
    )


def _take(
    conn: Connection,
    org: Org,
    row: dict[str, Any],
    now: datetime,
    command: AckCommand,
    process_id: str | None,
    reason: str,
    recipient: str | None,
    level: int,
    deadline: datetime,
) -> Step | None:
    """Move the decision one step (compare-and-set on ``followups``) and queue its message."""
    tier = _tier(org, row)
    changed = conn.execute(
        update(decisions)
        .where(decisions.c.id == row["id"])
        .where(decisions.c.followups == row["followups"])
        .where(decisions.c.status == "open")
        .values(
            holder=recipient,
            level=level,
            deadline=deadline,
            notified_at=now,
            next_notify_at=_next(org, tier, recipient, deadline, now),
            followups=row["followups"] + 1,
            updated_at=now,
        )
    )
    if changed.rowcount != 1:
        return None  # another caller took this step
    previous = row["holder"] if reason == "escalated" else None
    message = {**row, "deadline": deadline}
    notification = _queue(
        conn,
        message,
        reason,
        recipient,
        level,
        deadline,
        now,
        command,
        process_id,
        row["followups"] + 1,
        previous,
    )
    return Step(row["id"], reason, recipient, level, notification)


def _reschedule(conn: Connection, row: dict[str, Any], when: datetime | None) -> Step | None:
    """Nothing to send now: look again at ``when`` (never, when None)."""
    changed = conn.execute(
        update(decisions)
        .where(decisions.c.id == row["id"])
        .where(decisions.c.followups == row["followups"])
        .where(decisions.c.status == "open")
        .values(next_notify_at=when, followups=row["followups"] + 1)
    )
    if changed.rowcount != 1:
        return None
    return Step(row["id"], None, None, row["level"], None)


def _queue(
    conn: Connection,
    row: Mapping[str, Any],
    reason: str,
    recipient: str | None,
    level: int,
    deadline: datetime,
    now: datetime,
    command: AckCommand,
    process_id: str | None,
    step: int,
    previous: str | None = None,
) -> int | None:
    message = _message(
        row, reason, recipient, level, deadline, now, command, process_id, step, previous
    )
    return enqueue(conn, **message)


def _message(
    row: Mapping[str, Any],
    reason: str,
    recipient: str | None,
    level: int,
    deadline: datetime,
    now: datetime,
    command: AckCommand,
    process_id: str | None,
    step: int,
    previous: str | None = None,
) -> dict[str, Any]:
    """What :func:`enqueue` takes for the message of step ``step`` of decision ``row``."""
    title, body = compose(
        row,
        reason=reason,
        recipient=recipient,
        deadline=deadline,
        level=level,
        ack_command=command(int(row["id"])),
        process_id=process_id,
        previous=previous,
    )
    return {
        "key": f"{row['id']}:{step}",
        "decision_id": int(row["id"]),
        "recipient": recipient,
        "tier": row["tier"],
        "reason": reason,
        "level": level,
        "title": title,
        "body": body,
        "now": now,
    }


def _next(
    org: Org,
    tier: UrgencyTier | None,
    holder: str | None,
    deadline: datetime,
    notified_at: datetime | None,
) -> datetime | None:
    """When a told decision is next looked at: its deadline if someone is above the holder,
    its next repeat, whichever is first; never when neither applies."""
    times = []
    if tier is not None and _above(org, holder) is not None:
        times.append(deadline)
    if tier is not None and tier.repeat and notified_at is not None:
        times.append(notified_at + tier.repeat)
    return min(times) if times else None


def _above(org: Org, holder: str | None) -> str | None:
    """The seat ``holder`` reports to (an escalation's next step), None at the top."""
    seat = org.seats.get(holder) if holder else None
    if seat is None or not seat.reports_to or seat.reports_to not in org.seats:
        return None
    return seat.reports_to


def _tier(org: Org, row: Mapping[str, Any]) -> UrgencyTier | None:
    return org.urgency.get(row["tier"]) if row["tier"] else None
