"""Follow-ups: changes a learning still needs, each owned by a seat and nagged when due.

A follow-up is made by closing an incident with ``--follow-up`` (in the close's transaction).
Once its due time has passed and until it is marked done, its owner is told through the
outbox once every :data:`NAG_EVERY`: the nag is taken by compare-and-set on ``nags`` and its
message queued in the same transaction under the key ``follow-up:ID:N``, so however many
senders run, each nag happens once and queues one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from orgplane.errors import NotFoundError, UsageError
from orgplane.org.models import Org
from orgplane.respond.outbox import enqueue
from orgplane.respond.recipients import who_is_told
from orgplane.store.tables import follow_ups
from orgplane.store.types import utcnow

__all__ = [
    "NAG_EVERY",
    "Nag",
    "add_follow_up",
    "get_follow_up",
    "list_follow_ups",
    "mark_done",
    "nag_due",
]

NAG_EVERY = timedelta(days=1)
"""How often an overdue follow-up's owner is told again."""

DoneCommand = Callable[[int], str]


@dataclass(frozen=True)
class Nag:
    """One nag taken: the follow-up, who was told (None: nobody the chart names)."""

    follow_up_id: int
    recipient: str | None
    nags: int
    notification_id: int | None


def add_follow_up(
    conn: Connection,
    incident_id: int,
    text: str,
    owner: str,
    due: datetime,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> int:
    """Store a follow-up of incident ``incident_id`` in the caller's transaction; its id."""
    return int(
        conn.execute(
            insert(follow_ups).values(
                incident_id=incident_id,
                text=text,
                owner=owner,
                due=due,
                created_at=now or utcnow(),
                created_by=actor,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )


def get_follow_up(conn: Connection, follow_up_id: int) -> dict[str, Any]:
    """The follow-up ``follow_up_id``; NotFoundError naming how to list them otherwise."""
    row = conn.execute(select(follow_ups).where(follow_ups.c.id == follow_up_id)).first()
    if row is None:
        raise NotFoundError(f"no follow-up {follow_up_id}; list them with 'orgplane follow-ups'")
    return dict(row._mapping)


def list_follow_ups(
    conn: Connection,
    *,
    open_only: bool = True,
    overdue_at: datetime | None = None,
    incident_id: int | None = None,
) -> list[dict[str, Any]]:
    """Follow-ups by due time; ``open_only`` keeps those not done, ``overdue_at`` those not
    done and due before that time, ``incident_id`` those of one incident."""
    query = select(follow_ups).order_by(follow_ups.c.due, follow_ups.c.id)
    if open_only or overdue_at is not None:
        query = query.where(follow_ups.c.done_at.is_(None))
    if overdue_at is not None:
        query = query.where(follow_ups.c.due <= overdue_at)
    if incident_id is not None:
        query = query.where(follow_ups.c.incident_id == incident_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def mark_done(
    conn: Connection,
    follow_up_id: int,
    *,
    actor: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Mark a follow-up done (it is nagged no more); UsageError when it already is."""
    row = get_follow_up(conn, follow_up_id)
    if row["done_at"] is not None:
        raise UsageError(
            f"follow-up {follow_up_id} was already done on {row['done_at']:%Y-%m-%d %H:%M} UTC"
        )
    changed = conn.execute(
        update(follow_ups)
        .where(follow_ups.c.id == follow_up_id)
        .where(follow_ups.c.done_at.is_(None))
        .values(done_at=now or utcnow(), done_by=actor, done_note=note)
    )
    if changed.rowcount != 1:
        raise UsageError(f"follow-up {follow_up_id} was marked done meanwhile")
    return get_follow_up(conn, follow_up_id)


def _recipient(org: Org, owner: str) -> str | None:
    """A person told of the follow-up: the owner if human, else the owner's owner."""
    seat = org.seats.get(owner)
    if seat is not None and seat.kind == "human":
        return seat.id
    return who_is_told(org, None, owner)


def nag_due(
    conn: Connection,
    org: Org,
    now: datetime,
    *,
    command: DoneCommand,
    every: timedelta = NAG_EVERY,
) -> list[Nag]:
    """Nag every open follow-up past its due time and not nagged in the last ``every``, in the
    caller's transaction: its owner's message queued in the outbox. A nag another caller took
    first is skipped."""
    due = conn.execute(
        select(follow_ups)
        .where(follow_ups.c.done_at.is_(None))
        .where(follow_ups.c.due <= now)
        .order_by(follow_ups.c.due, follow_ups.c.id)
    ).all()
    taken: list[Nag] = []
    for found in due:
        row = dict(found._mapping)
        if row["nagged_at"] is not None and row["nagged_at"] + every > now:
            continue
        nags = int(row["nags"]) + 1
        changed = conn.execute(
            update(follow_ups)
            .where(follow_ups.c.id == row["id"])
            .where(follow_ups.c.nags == row["nags"])
            .where(follow_ups.c.done_at.is_(None))
            .values(nags=nags, nagged_at=now)
        )
        if changed.rowcount != 1:
            continue
        recipient = _recipient(org, row["owner"])
        overdue = now - row["due"]
        title = f"orgplane follow-up {row['id']} of incident {row['incident_id']} is overdue"
        body = "\n".join(
            [
                f"Follow-up {row['id']} (incident {row['incident_id']}): {row['text']}",
                f"Owner: seat {row['owner']}; due {row['due']:%Y-%m-%d %H:%M} UTC, "
                f"overdue by {_days(overdue)}.",
                f"Reminder {nags}; sent again every {_days(every)} until it is done.",
                f"Done: {command(int(row['id']))}",
            ]
        )
        notification = enqueue(
            conn,
            key=f"follow-up:{row['id']}:{nags}",
            decision_id=None,
            follow_up_id=int(row["id"]),
            recipient=recipient,
            tier=None,
            reason="follow_up",
            level=0,
            title=title,
            body=body,
            now=now,
        )
        taken.append(Nag(int(row["id"]), recipient, nags, notification))
    return taken


def _days(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"
