"""Use cases of notifications: send what is due, follow decisions up, list what was sent.

Each is safe to call from several processes at once on one store (the daemon calls
:func:`follow_up` and :func:`deliver_due` every second, ``decide --once`` once): a follow-up
step is taken by one caller, a notification is claimed by one sender, and sending happens
outside any transaction, each target bounded by a timeout and sent in parallel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orgplane.service.models import Result
from orgplane.service.session import Session

if TYPE_CHECKING:
    from orgplane.respond.delivery import Job, TargetResult
    from orgplane.respond.followups import Step
    from orgplane.respond.outbox import RetryPolicy


class TargetView(Result):
    """The last result of one target of a notification (its URL with secrets hidden)."""

    target: str
    service: str | None
    status: str
    detail: str | None
    duration_ms: int
    attempt: int
    finished_at: datetime


class NotificationView(Result):
    """One queued message: for which decision and seat, why, its text, where it stands.
    ``status``: ``pending``, ``sending`` (claimed), ``retrying``, ``sent``, ``failed`` (gave
    up after the last attempt) or ``cancelled`` (its decision closed before it was sent)."""

    id: int
    decision_id: int | None
    """None for a nag of an overdue follow-up (``follow_up_id``)."""
    follow_up_id: int | None = None
    recipient: str | None
    tier: str | None
    reason: str
    level: int
    title: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    targets: list[TargetView]


class NotificationList(Result):
    """Notifications newest first."""

    notifications: list[NotificationView]


class Delivered(Result):
    """What one delivery pass did: rows claimed, and how each ended (``sent``, ``retrying``,
    ``failed``); ``cancelled`` counts unsent rows of decisions that closed."""

    claimed: int
    sent: int
    retrying: int
    failed: int
    cancelled: int
    notifications: list[NotificationView]


class FollowUpStep(Result):
    """One follow-up taken: who was told and why (``reason`` None: only rescheduled)."""

    decision_id: int
    reason: str | None
    recipient: str | None
    level: int
    notification_id: int | None


class FollowedUp(Result):
    """What one follow-up pass did: the steps taken and how many messages they queued."""

    queued: int
    steps: list[FollowUpStep]


def _view(row: dict[str, Any]) -> NotificationView:
    targets = [
        TargetView(
            target=t["target"],
            service=t["service"],
            status=t["status"],
            detail=t["detail"],
            duration_ms=t["duration_ms"],
            attempt=t["attempt"],
            finished_at=t["finished_at"],
        )
        for t in row.get("targets", [])
    ]
    fields = {k: row[k] for k in NotificationView.model_fields if k in row and k != "targets"}
    if fields["status"] in ("sent", "failed", "cancelled"):
        fields["next_attempt_at"] = None  # nothing more will be tried
    return NotificationView(**fields, targets=targets)


def ack_command(session: Session) -> Any:
    """The command a message gives to acknowledge decision N, for this session's org."""
    return lambda decision_id: session.command("decision", "ack", str(decision_id))


def follow_up(session: Session, *, now: datetime | None = None) -> FollowedUp:
    """Take every follow-up due (re-send every ``repeat``, one step up the reporting line past
    a deadline, once more when an acknowledgement expires, a ``wait`` past its deadline),
    each once whatever other callers run, its message queued in the same transaction."""
    from orgplane.respond import followups
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    at = now or utcnow()
    steps: list[followups.Step] = []
    while True:
        with store.write() as conn:
            batch = followups.follow_up(conn, org, at, command=ack_command(session))
        steps.extend(batch)
        if len(batch) < followups.BATCH:
            break
    return FollowedUp(
        queued=sum(1 for s in steps if s.notification_id is not None),
        steps=[_step_view(s) for s in steps if s.reason is not None],
    )


def _step_view(step: Step) -> FollowUpStep:
    return FollowUpStep(
        decision_id=step.decision_id,
        reason=step.reason,
        recipient=step.recipient,
        level=step.level,
        notification_id=step.notification_id,
    )


def escalate(
    session: Session, decision_id: int, *, reason: str = "attempts"
) -> FollowUpStep | None:
    """Hand an open decision to its person now and queue the message (what the daemon calls
    when a ``resume`` runs out of attempts); None when it is closed or was just escalated."""
    from orgplane.respond import followups
    from orgplane.store.types import utcnow

    org = session.org()
    with session.store().write() as conn:
        step = followups.escalate(
            conn, org, decision_id, utcnow(), reason=reason, command=ack_command(session)
        )
    return _step_view(step) if step is not None else None


def deliver_due(
    session: Session,
    *,
    limit: int = 100,
    now: datetime | None = None,
    timeout: float | None = None,
    policy: RetryPolicy | None = None,
    sender: str | None = None,
) -> Delivered:
    """Send every notification due (up to ``limit``): each claimed by this sender alone, sent
    outside any transaction to each target in parallel within ``timeout`` seconds, each
    target's result stored as it ends; a failure is retried later with backoff, and after the
    policy's last attempt the row is ``failed``. ``now`` fixes the clock (tests)."""
    from orgplane.respond import delivery, outbox
    from orgplane.respond.recipients import targets_of
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    policy = policy or outbox.RetryPolicy()
    sender = sender or _sender_id()
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    with store.write() as conn:
        cancelled = outbox.cancel_closed(conn, clock())
        claimed = outbox.claim_due(conn, sender, clock(), limit=limit, policy=policy)
    statuses: dict[int, str] = {}
    rows = {int(r["id"]): r for r in claimed}
    jobs: list[Job] = []
    for row in claimed:
        targets = [
            url
            for url in targets_of(org, row["recipient"], row["tier"])
            if _shown(url) not in row["delivered"]
        ]
        if targets:
            jobs.append(delivery.Job(int(row["id"]), tuple(targets), row["title"], row["body"]))
            continue
        with store.write() as conn:
            statuses[row["id"]] = outbox.record(
                conn, row, sender, [], clock(), policy, error=_nobody(org, row)
            )

    finished: list[tuple[Job, list[TargetResult]]] = []
    flushed = [time.monotonic()]

    def flush() -> None:
        # Results go to the store a few at a time, in one transaction: a transaction per
        # message capped a sender at ~90 messages a second; a lost batch is at most 0.2 s.
        if not finished:
            return
        with store.write() as conn:
            done_now = [(rows[job.key], results) for job, results in finished]
            for (job, _), status in zip(
                finished, outbox.record_many(conn, done_now, sender, clock(), policy), strict=True
            ):
                statuses[job.key] = status
        finished.clear()
        flushed[0] = time.monotonic()

    def done(job: Job, results: list[TargetResult]) -> None:
        finished.append((job, results))
        if len(finished) >= 50 or time.monotonic() - flushed[0] >= 0.2:
            flush()

    delivery.send(jobs, timeout=timeout or delivery.DEFAULT_TIMEOUT, on_done=done)
    flush()
    with store.read() as conn:
        found = outbox.list_notifications(conn, ids=list(rows), limit=len(rows) or 1)
    ended = list(statuses.values())
    return Delivered(
        claimed=len(rows),
        sent=ended.count("sent"),
        retrying=ended.count("retrying"),
        failed=ended.count("failed"),
        cancelled=cancelled,
        notifications=[_view(r) for r in reversed(found)],
    )


def list_notifications(
    session: Session,
    *,
    failed: bool = False,
    limit: int = 100,
    decision_id: int | None = None,
    unsent: bool = False,
) -> NotificationList:
    """Notifications newest first with the last result of each target; ``failed``: those that
    gave up or are retrying after a failure; ``unsent``: those still waiting to be sent."""
    from orgplane.respond.outbox import DUE
    from orgplane.respond.outbox import list_notifications as read

    with session.store().read() as conn:
        rows = read(
            conn,
            failed=failed,
            limit=limit,
            decision_id=decision_id,
            statuses=DUE if unsent else None,
        )
    return NotificationList(notifications=[_view(r) for r in rows])


def _shown(url: str) -> str:
    from orgplane.org.reach import redact

    return redact(url)


def _nobody(org: Any, row: dict[str, Any]) -> str:
    recipient, tier = row["recipient"], row["tier"]
    if recipient is None:
        return (
            "nobody to tell: the chart names no one for this decision; give the tier "
            "'notify: <human seat>' or the failing seat an owner"
        )
    where = f" and tier {tier!r} has none" if tier else ""
    return (
        f"seat {recipient!r} has no notify_urls{where}; add 'notify_urls: [<Apprise URL>]' "
        f"to seat {recipient!r} in org.yaml ('orgplane validate' names every such gap)"
    )


def _sender_id() -> str:
    import os
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
