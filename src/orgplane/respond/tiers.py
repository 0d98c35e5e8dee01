"""Choosing the urgency tier of a failure event, from org.yaml alone (pure: no store, no clock).

The base tier is the most specific one declared: on the failing process, output or metric
itself, else on the failing seat, else a tier whose ``kinds:`` lists the event's kind. A tier's
``when:`` rules then raise the event to that tier when it is more urgent (a shorter deadline)
and every selector of the rule matches, its ``condition`` included. The answer names the rule
that fired as ``file:line`` of org.yaml, so a person can read why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from orgplane.org.models import RULE_SELECTORS, Org, RaiseRule, UrgencyTier
from orgplane.respond.conditions import Condition, parse_condition

SUBJECT_SECTION = {"process": "processes", "output": "outputs", "metric": "metrics"}
"""Where the item an event is about is declared, by the event's subject kind (a run's subject
is its process)."""

SPECIFICITY = {"subject": 3, "seat": 2, "kind": 1}
"""How specific each place a tier can be declared is; the most specific declaration wins."""


@dataclass(frozen=True)
class EventFacts:
    """What tier selection reads of an event. ``process_id`` is the process of a run event."""

    kind: str
    subject_kind: str
    subject_id: str
    seat_id: str | None = None
    process_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    def subject(self) -> tuple[str, str] | None:
        """The section and id of the declared item this event is about, if any."""
        if self.subject_kind == "run":
            return ("processes", self.process_id) if self.process_id else None
        section = SUBJECT_SECTION.get(self.subject_kind)
        return (section, self.subject_id) if section else None


@dataclass(frozen=True)
class TierChoice:
    """The tier chosen and the declaration that chose it (``rule`` is ``file:line``)."""

    tier: str
    rule: str
    reason: str
    """The dotted key of the rule (``processes.pepper-triage.urgency``, ``urgency.owner.when.0``)."""


def choose_tier(org: Org, event: EventFacts) -> TierChoice | None:
    """The tier of ``event``: the most specific declaration, raised by any matching ``when``
    rule of a more urgent tier. None when the org declares nothing that applies."""
    base = _declared(org, event)
    best: tuple[str, str] | None = base
    for tier_id, tier in org.urgency.items():
        for index, rule in enumerate(tier.when):
            if not _matches(org, rule, event):
                continue
            if best is None or _more_urgent(tier, org.urgency.get(best[0])):
                best = (tier_id, f"urgency.{tier_id}.when.{index}")
    if best is None:
        return None
    return TierChoice(tier=best[0], rule=org.where(best[1]), reason=best[1])


def _declared(org: Org, event: EventFacts) -> tuple[str, str] | None:
    subject = event.subject()
    if subject is not None:
        section, item_id = subject
        item = getattr(org, section).get(item_id)
        if item is not None and item.urgency:
            return item.urgency, f"{section}.{item_id}.urgency"
    seat_id = failing_seat(org, event)
    seat = org.seats.get(seat_id) if seat_id else None
    if seat is not None and seat.urgency:
        return seat.urgency, f"seats.{seat.id}.urgency"
    for tier_id, tier in org.urgency.items():
        if event.kind in tier.kinds:
            return tier_id, f"urgency.{tier_id}.kinds"
    return None


def failing_seat(org: Org, event: EventFacts) -> str | None:
    """The failing seat: the event's own, else the producer or owner of its subject."""
    if event.seat_id:
        return event.seat_id
    if event.subject_kind == "seat":  # a heartbeat is named for its job, not for a seat
        return event.subject_id
    subject = event.subject()
    if subject is None:
        return None
    section, item_id = subject
    if section == "outputs" and item_id in org.outputs:
        return org.outputs[item_id].producer
    if section == "metrics" and item_id in org.metrics:
        return org.metrics[item_id].owner
    if section == "processes" and item_id in org.processes:
        return org.processes[item_id].seat
    return None


def _matches(org: Org, rule: RaiseRule, event: EventFacts) -> bool:
    if rule.kind is not None and rule.kind != event.kind:
        return False
    subject = event.subject()
    for key in ("process", "output", "metric"):
        named = getattr(rule, key)
        if named is not None and subject != (RULE_SELECTORS[key], named):
            return False
    if rule.seat is not None and rule.seat != failing_seat(org, event):
        return False
    return rule.condition is None or _parsed(rule.condition).holds(event.context)


def _more_urgent(tier: UrgencyTier, than: UrgencyTier | None) -> bool:
    return than is None or tier.deadline < than.deadline


@lru_cache(maxsize=1024)  # an org has a few conditions; each event checks them all
def _parsed(text: str) -> Condition:
    return parse_condition(text)
