"""The notification outbox: rows queued with their decision, claimed by one sender, recorded.

Queue (:func:`enqueue`) inside the transaction of the decision step that calls for the message,
so a decision is never committed without its message nor the other way round. Claim
(:func:`claim_due`) by compare-and-set: an ``UPDATE`` whose ``WHERE`` repeats the due condition,
its rowcount telling who won; no row is locked while sending. A claim lasts ``lease``: a sender
that dies mid-send leaves a row that is due again when its claim expires. Record
(:func:`record`) appends every target's result and moves the row on: ``sent``, ``retrying`` at a
backed-off time, or ``failed`` after the last attempt (kept and listed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Executable, and_, bindparam, insert, or_, select, update

from orgplane.respond.bulk import execute_rows, unnest
from orgplane.respond.delivery import TargetResult
from orgplane.store.tables import decisions, notification_attempts, notifications
from orgplane.store.upsert import dialect_insert

DUE = ("pending", "retrying")
"""States a row is sent from once ``next_attempt_at`` has come."""

SENDING = "sending"
"""A sender claimed the row until ``claim_until``."""

FINAL = ("sent", "failed", "cancelled")


@dataclass(frozen=True)
class RetryPolicy:
    """How failed sends are retried: ``base`` after the first, doubling up to ``cap``; after
    ``max_attempts`` the row is ``failed``. ``lease`` is how long a claim holds."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=2)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        factor: int = 2 ** min(max(0, attempts - 1), 30)
        return min(self.cap, self.base * factor)


def enqueue(
    conn: Connection,
    *,
    key: str,
    decision_id: int | None,
    recipient: str | None,
    tier: str | None,
    reason: str,
    level: int,
    title: str,
    body: str,
    now: datetime,
    follow_up_id: int | None = None,
) -> int | None:
    """Queue one message in the caller's transaction, due now. ``key`` names the decision step
    (``12:1``) or the nag of a follow-up (``follow-up:3:1``, with ``follow_up_id`` and no
    decision): a second enqueue of the same step is ignored (None)."""
    row = _row(key, decision_id, recipient, tier, reason, level, title, body, now)
    if follow_up_id is not None:
        row["follow_up_id"] = follow_up_id
    found = conn.execute(_statements(conn)[0], row).scalar()
    return int(found) if found is not None else None


def enqueue_many(conn: Connection, messages: Sequence[Mapping[str, Any]]) -> None:
    """Queue many messages (each what :func:`enqueue` takes) in one statement; a step already
    queued is ignored, as by :func:`enqueue`."""
    if messages:
        execute_rows(conn, _statements(conn)[1], [_row(**m) for m in messages])


QUEUED = (
    "key",
    "decision_id",
    "recipient",
    "tier",
    "reason",
    "level",
    "title",
    "body",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "updated_at",
)
"""The columns of a message as it is queued."""


def _row(
    key: str,
    decision_id: int | None,
    recipient: str | None,
    tier: str | None,
    reason: str,
    level: int,
    title: str,
    body: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "key": key,
        "decision_id": decision_id,
        "recipient": recipient,
        "tier": tier,
        "reason": reason,
        "level": level,
        "title": title,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "updated_at": now,
    }


_BUILT: dict[str, tuple[Executable, Executable]] = {}


def _statements(conn: Connection) -> tuple[Executable, Executable]:
    """The insert of one row (RETURNING its id) and of a batch (respond/bulk.py), built once
    per dialect and executed with parameters: building one from values costs more than
    running it."""
    built = _BUILT.get(conn.dialect.name)
    if built is None:
        one = dialect_insert(conn, notifications)
        many = one
        if conn.dialect.name == "postgresql":
            many = many.from_select(QUEUED, unnest({c: notifications.c[c].type for c in QUEUED}))
        built = (
            one.on_conflict_do_nothing(index_elements=["key"]).returning(notifications.c.id),
            many.on_conflict_do_nothing(index_elements=["key"]),
        )
        _BUILT[conn.dialect.name] = built
    return built


def cancel_for(conn: Connection, decision_ids: Sequence[int], now: datetime) -> int:
    """Cancel the unsent messages of closed decisions (a recovery makes them noise)."""
    if not decision_ids:
        return 0
    statement = (
        update(notifications)
        .where(notifications.c.decision_id.in_(list(decision_ids)))
        .where(notifications.c.status.in_(DUE))
        .values(status="cancelled", updated_at=now, last_error="its decision closed first")
    )
    return int(conn.execute(statement).rowcount or 0)


def cancel_closed(conn: Connection, now: datetime) -> int:
    """Cancel every unsent message whose decision has closed since it was queued."""
    closed = select(decisions.c.id).where(decisions.c.status == "closed")
    statement = (
        update(notifications)
        .where(notifications.c.status.in_(DUE))
        .where(notifications.c.decision_id.in_(closed.scalar_subquery()))
        .values(status="cancelled", updated_at=now, last_error="its decision closed first")
    )
    return int(conn.execute(statement).rowcount or 0)


def _due(now: datetime) -> Any:
    return or_(
        and_(notifications.c.status.in_(DUE), notifications.c.next_attempt_at <= now),
        and_(notifications.c.status == SENDING, notifications.c.claim_until <= now),
    )


def claim_due(
    conn: Connection, sender: str, now: datetime, *, limit: int, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due rows for ``sender``, oldest due first; each won by
    compare-and-set (a row another sender claimed between the read and the update is skipped).
    Returns the claimed rows with their ``attempts`` already counting this one, and the
    targets that already succeeded in an earlier attempt (``delivered``)."""
    candidates = conn.execute(
        select(notifications.c.id)
        .where(_due(now))
        .order_by(notifications.c.next_attempt_at, notifications.c.id)
        .limit(limit)
    ).scalars()
    # One compare-and-set for the lot: the WHERE re-checks each row is still due, so a row
    # another sender claimed since the read is simply not among those returned.
    wanted = list(candidates)
    claimed = (
        [
            int(i)
            for i in conn.execute(
                update(notifications)
                .where(notifications.c.id.in_(wanted))
                .where(_due(now))
                .values(
                    status=SENDING,
                    claimed_by=sender,
                    claim_until=now + policy.lease,
                    attempts=notifications.c.attempts + 1,
                    updated_at=now,
                )
                .returning(notifications.c.id)
            ).scalars()
        ]
        if wanted
        else []
    )
    if not claimed:
        return []
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(notifications)
            .where(notifications.c.id.in_(claimed))
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
        )
    ]
    done = conn.execute(
        select(notification_attempts.c.notification_id, notification_attempts.c.target)
        .where(notification_attempts.c.notification_id.in_(claimed))
        .where(notification_attempts.c.status == "success")
    ).all()
    for row in rows:
        row["delivered"] = {t for n, t in done if n == row["id"]}
    return rows


def _attempt_rows(
    row: dict[str, Any], results: Sequence[TargetResult], sender: str
) -> list[dict[str, Any]]:
    """The append-only ``notification_attempts`` rows of one attempt of ``row``."""
    return [
        {
            "notification_id": row["id"],
            "attempt": row["attempts"],
            "target": r.target,
            "service": r.service,
            "status": r.status,
            "detail": r.detail,
            "duration_ms": r.duration_ms,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "sender": sender,
        }
        for r in results
    ]


def _outcome(
    row: dict[str, Any], results: Sequence[TargetResult], policy: RetryPolicy, error: str | None
) -> tuple[str, str]:
    """Where an attempt leaves ``row``: ``sent``, ``retrying`` or ``failed`` (after the policy's
    last attempt), and the problem to keep ('' when sent)."""
    failed = [r for r in results if r.status != "success"]
    problem = error or "; ".join(f"{r.target}: {r.status} ({r.detail or '-'})" for r in failed)
    if not problem:
        return "sent", ""
    return ("failed" if row["attempts"] >= policy.max_attempts else "retrying"), problem


def record(
    conn: Connection,
    row: dict[str, Any],
    sender: str,
    results: Sequence[TargetResult],
    now: datetime,
    policy: RetryPolicy,
    *,
    error: str | None = None,
) -> str:
    """Store each target's result of this attempt (append-only) and move the row on; returns
    its new status. ``error`` fails the attempt without a target (nobody to send to). A row
    whose claim another sender took over keeps its status: only the results are added."""
    if results:
        conn.execute(insert(notification_attempts), _attempt_rows(row, results, sender))
    status, problem = _outcome(row, results, policy, error)
    values: dict[str, Any] = {"status": status, "last_error": problem or None}
    if status == "sent":
        values["sent_at"] = now
    elif status == "retrying":
        values["next_attempt_at"] = now + policy.backoff(int(row["attempts"]))
    changed = conn.execute(
        update(notifications)
        .where(notifications.c.id == row["id"])
        .where(notifications.c.status == SENDING)
        .where(notifications.c.claimed_by == sender)
        .where(notifications.c.attempts == row["attempts"])
        .values(**values, claim_until=None, updated_at=now)
    )
    return str(values["status"]) if changed.rowcount == 1 else SENDING


def record_many(
    conn: Connection,
    finished: Sequence[tuple[dict[str, Any], Sequence[TargetResult]]],
    sender: str,
    now: datetime,
    policy: RetryPolicy,
) -> list[str]:
    """:func:`record` for many attempts in two statements (every target's result appended,
    every row moved on), in the caller's transaction: a statement a row capped a sender at a
    few dozen messages a second. Returns each row's new status as intended; a row whose claim
    another sender took over meanwhile keeps its status, as with :func:`record`."""
    attempts = [a for row, results in finished for a in _attempt_rows(row, results, sender)]
    if attempts:
        conn.execute(insert(notification_attempts), attempts)
    moves, statuses = [], []
    for row, results in finished:
        status, problem = _outcome(row, results, policy, None if results else "no target was tried")
        moves.append(
            {
                "row_id": row["id"],
                "row_attempts": row["attempts"],
                "new_status": status,
                # When it was sent, not when this batch was written down.
                "new_sent_at": max((r.finished_at for r in results), default=now)
                if status == "sent"
                else None,
                "new_next": now + policy.backoff(int(row["attempts"]))
                if status == "retrying"
                else row["next_attempt_at"],
                "new_error": problem or None,
                "sender_id": sender,
                "new_at": now,
            }
        )
        statuses.append(status)
    if moves:
        conn.execute(_MOVE, moves)
    return statuses


_MOVE = (
    update(notifications)
    .where(notifications.c.id == bindparam("row_id"))
    .where(notifications.c.status == SENDING)
    .where(notifications.c.claimed_by == bindparam("sender_id"))
    .where(notifications.c.attempts == bindparam("row_attempts"))
    .values(
        status=bindparam("new_status"),
        sent_at=bindparam("new_sent_at"),
        next_attempt_at=bindparam("new_next"),
        last_error=bindparam("new_error"),
        claim_until=None,
        updated_at=bindparam("new_at"),
    )
)


def list_notifications(
    conn: Connection,
    *,
    failed: bool = False,
    decision_id: int | None = None,
    ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Notifications newest first, each with ``targets``: the last result of each target.
    ``failed`` keeps the rows that gave up and those still retrying after a failure; ``ids``,
    ``statuses`` and ``decision_id`` keep those rows only."""
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    if ids is not None:
        query = query.where(notifications.c.id.in_(list(ids)))
    if statuses is not None:
        query = query.where(notifications.c.status.in_(list(statuses)))
    if failed:
        query = query.where(notifications.c.status.in_(("failed", "retrying")))
    if decision_id is not None:
        query = query.where(notifications.c.decision_id == decision_id)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    ids = [r["id"] for r in rows]
    attempts = (
        conn.execute(
            select(notification_attempts)
            .where(notification_attempts.c.notification_id.in_(ids))
            .order_by(notification_attempts.c.id)
        ).all()
        if ids
        else []
    )
    last: dict[int, dict[str, dict[str, Any]]] = {}
    for attempt in attempts:
        found = dict(attempt._mapping)
        last.setdefault(found["notification_id"], {})[found["target"]] = found
    for row in rows:
        row["targets"] = list(last.get(row["id"], {}).values())
    return rows


def attempts_of(conn: Connection, notification_id: int) -> list[dict[str, Any]]:
    """Every attempt row of one notification, oldest first."""
    query = (
        select(notification_attempts)
        .where(notification_attempts.c.notification_id == notification_id)
        .order_by(notification_attempts.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
