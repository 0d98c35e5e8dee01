"""Who hears of a decision, from the chart alone (pure: no store, no clock, no Apprise).

The decision engine, the follow-ups and ``orgplane validate`` all resolve the person told the
same way, so what validate calls reachable is what the engine will try to reach.
"""

from __future__ import annotations

from orgplane.org.models import Org

NOTIFYING_ACTIONS = ("escalate", "wait")
"""Tier actions that tell a person: ``escalate`` at once, ``wait`` when its deadline passes
without a recovery (``resume`` tells someone only when its attempts run out, through the daemon;
``skip_and_flag`` never)."""


def who_is_told(org: Org, notify: str | None, seat_id: str | None) -> str | None:
    """The tier's ``notify`` seat, else the failing seat's owner, else a human failing seat
    itself (a person answers for their own seat); None when the chart names nobody."""
    if notify:
        return notify
    seat = org.seats.get(seat_id) if seat_id else None
    if seat is None:
        return None
    if seat.owner:
        return seat.owner
    return seat.id if seat.kind == "human" else None


def seats_that_can_fail(org: Org) -> list[str]:
    """Active seats something is declared for that can fail: a process, an output or a metric,
    in chart order (a heartbeat may come from any seat, but nothing declares it)."""
    named = {p.seat for p in org.processes.values()}
    named |= {o.producer for o in org.outputs.values()}
    named |= {m.owner for m in org.metrics.values()}
    return [s.id for s in org.active_seats() if s.id in named]


def tier_recipients(org: Org, tier_id: str) -> dict[str, list[str]]:
    """The seats a tier's notification would go to first, each with the failing seats that
    lead to it: the tier's ``notify``, else the owner of every seat that can fail."""
    tier = org.urgency[tier_id]
    if tier.notify:
        return {tier.notify: []}
    recipients: dict[str, list[str]] = {}
    for seat_id in seats_that_can_fail(org):
        told = who_is_told(org, None, seat_id)
        if told is not None:
            recipients.setdefault(told, []).append(seat_id)
    return recipients


def targets_of(org: Org, recipient: str | None, tier_id: str | None) -> list[str]:
    """The notification URLs of one message: the recipient seat's, then its tier's (each
    once, in order), as written in org.yaml (``${NAME}`` not yet expanded)."""
    urls: list[str] = []
    seat = org.seats.get(recipient) if recipient else None
    if seat is not None:
        urls.extend(seat.notify_urls)
    tier = org.urgency.get(tier_id) if tier_id else None
    if tier is not None:
        urls.extend(tier.notify_urls)
    return list(dict.fromkeys(urls))
