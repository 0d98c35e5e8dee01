"""Cron schedules with a grace period, healthchecks.io style: ``up``, ``late`` (within grace),
``down`` (the push did not arrive in its window).

Each slot of a schedule owns the pushes that arrive from a little before it (the clock-skew
tolerance) until a little before the next slot. A slot whose grace runs out without a push is
missing, and the schedule went down at that moment (the window's end), whenever it is noticed.
Cron is read in the org's time zone; everything returned is aware UTC.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from orgplane.errors import UsageError
from orgplane.org.durations import format_duration
from orgplane.watch.timestamps import CLOCK_SKEW

SlotState = Literal["on_time", "late", "missing", "due", "upcoming"]


@dataclass(frozen=True, slots=True)
class Slot:
    """One expected push: when it was due, when it arrived (if it did) and what that makes it."""

    at: datetime
    due_by: datetime
    arrived: datetime | None
    state: SlotState


@dataclass(slots=True)
class ScheduleStatus:
    """Where a schedule stands at ``now``."""

    status: Literal["up", "late", "down"]
    reason: str
    changed_at: datetime
    deadline: datetime | None
    last_push: datetime | None
    missed_slot: datetime | None = None
    slots_today: list[Slot] = field(default_factory=list)
    summary: str = ""


def zone(name: str) -> ZoneInfo:
    """The org's time zone; an unknown name is bad input, never replaced by a guess."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"timezone {name!r} in the org file is not a known zone; write e.g. Europe/London"
        ) from None


def slot_times(cron: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every slot of ``cron`` in ``[start, end)``, as aware UTC times."""
    it = croniter(cron, start.astimezone(tz) - timedelta(seconds=1))
    slots: list[datetime] = []
    while True:
        nxt: datetime = it.get_next(datetime)
        if nxt >= end:
            return slots
        slots.append(nxt.astimezone(UTC))


def schedule_status(
    cron: str,
    grace: timedelta,
    tz_name: str,
    pushes: Iterable[datetime],
    now: datetime,
    failed_at: datetime | None = None,
) -> ScheduleStatus:
    """The status of a schedule given every push time known (any order) at ``now``; pure.

    ``failed_at`` is the time a job reported failure through a heartbeat: a failure after the
    latest push puts the schedule down at once, as in healthchecks.
    """
    tz = zone(tz_name)
    arrived = sorted(p for p in pushes if p <= now + CLOCK_SKEW)
    last_push = arrived[-1] if arrived else None
    prev, nxt, _ = _frame(cron, tz, now)
    slots = slots_today(cron, tz, arrived, now, grace)
    summary = _summary(slots, tz)
    first = _first_in(arrived, prev - CLOCK_SKEW, now + CLOCK_SKEW)
    hhmm = _hhmm(prev, tz)
    if failed_at is not None and (last_push is None or failed_at > last_push):
        reason = f"the job reported failure at {_hhmm(failed_at, tz)}"
        return ScheduleStatus(
            "down", _join(reason, summary), failed_at, None, last_push, prev, slots, summary
        )
    if first is not None:
        reason = f"the {hhmm} push arrived at {_hhmm(first, tz)}"
        return ScheduleStatus(
            "up", _join(reason, summary), first, nxt + grace, last_push, None, slots, summary
        )
    # As healthchecks: the schedule is down once the grace of the first slot that no push
    # covers has run out, and stays down until a push arrives.
    expected = _first_uncovered(cron, tz, last_push, prev, now, grace)
    down_at = expected + grace
    if now < down_at:
        reason = f"the {_hhmm(expected, tz)} push is due by {_hhmm(down_at, tz)}"
        return ScheduleStatus(
            "late", _join(reason, summary), expected, down_at, last_push, None, slots, summary
        )
    reason = (
        f"the {_hhmm(expected, tz)} push did not arrive by {_hhmm(down_at, tz)} "
        f"(grace {format_duration(grace)})"
    )
    if expected != prev:
        later = f"due by {_hhmm(prev + grace, tz)}" if now < prev + grace else "missing too"
        reason += f"; the {hhmm} one is {later}"
    return ScheduleStatus(
        "down", _join(reason, summary), down_at, None, last_push, expected, slots, summary
    )


def _first_uncovered(
    cron: str, tz: ZoneInfo, last_push: datetime | None, prev: datetime, now: datetime,
    grace: timedelta,
) -> datetime:  # fmt: skip
    """The first slot after the last push; with no push known, the latest slot whose grace
    has run out (or the latest slot, when none has yet)."""
    if last_push is not None:
        start = (last_push + CLOCK_SKEW).astimezone(tz)
        slot: datetime = croniter(cron, start).get_next(datetime).astimezone(UTC)
        return slot
    slot = prev
    earlier = croniter(cron, prev.astimezone(tz))
    while slot + grace > now:
        candidate: datetime = earlier.get_prev(datetime).astimezone(UTC)
        if candidate + grace <= now:
            return candidate
        slot = candidate
    return slot


def slots_today(
    cron: str, tz: ZoneInfo, arrived: list[datetime], now: datetime, grace: timedelta
) -> list[Slot]:
    """Today's slots (in the org's zone) with the push each received; ``arrived`` is sorted."""
    slots = []
    for at, following in _frame(cron, tz, now)[2]:
        push = _first_in(
            arrived, at - CLOCK_SKEW, following - CLOCK_SKEW - timedelta(microseconds=1)
        )
        due_by = at + grace
        state: SlotState
        if push is not None:
            state = "on_time" if push <= due_by else "late"
        elif at > now:
            state = "upcoming"
        elif now < due_by:
            state = "due"
        else:
            state = "missing"
        slots.append(Slot(at, due_by, push, state))
    return slots


def window_start(crons: Iterable[str], tz_name: str, now: datetime) -> datetime:
    """The earliest push any of ``crons`` can need at ``now``: the start of today's first slot
    window or of the latest slot's, whichever is earlier (``now`` with no schedule)."""
    tz = zone(tz_name)
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz).astimezone(UTC)
    starts = [min(_frame(cron, tz, now)[0], local_midnight) - CLOCK_SKEW for cron in set(crons)]
    return min(starts, default=now)


@lru_cache(maxsize=512)
def _frame(
    cron: str, tz: ZoneInfo, now: datetime
) -> tuple[datetime, datetime, tuple[tuple[datetime, datetime], ...]]:
    """The cron arithmetic of ``now`` that every subject on the same schedule shares: the
    latest slot, the next one, and today's slots each with the start of the next. Cached: a
    pass over 3,000 outputs on one schedule pays for croniter once, not 3,000 times."""
    local_now = now.astimezone(tz)
    prev = croniter(cron, local_now + timedelta(seconds=1)).get_prev(datetime).astimezone(UTC)
    nxt = croniter(cron, prev.astimezone(tz)).get_next(datetime).astimezone(UTC)
    day = local_now.date()
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    times = slot_times(cron, tz, start, end)
    if not times:
        return prev, nxt, ()
    after = croniter(cron, times[-1].astimezone(tz)).get_next(datetime).astimezone(UTC)
    return prev, nxt, tuple(zip(times, [*times[1:], after], strict=True))


def _first_in(sorted_times: list[datetime], low: datetime, high: datetime) -> datetime | None:
    index = bisect.bisect_left(sorted_times, low)
    if index < len(sorted_times) and sorted_times[index] <= high:
        return sorted_times[index]
    return None


def _summary(slots: list[Slot], tz: ZoneInfo) -> str:
    """Today's slots that were due: ``2 of 3 pushes due so far today (4 a day); the 15:00 one
    is missing``; before the first slot, ``no push due yet today (4 a day, the first at 07:00)``."""
    if not slots:
        return ""
    # A slot is due once its time has come (or its push arrived, a little early).
    due = [s for s in slots if s.state != "upcoming"]
    if not due:
        return f"no push due yet today ({len(slots)} a day, the first at {_hhmm(slots[0].at, tz)})"
    got = sum(1 for s in due if s.arrived is not None)
    if len(due) == len(slots):
        text = f"{got} of {len(slots)} pushes today"
    else:
        text = f"{got} of {len(due)} pushes due so far today ({len(slots)} a day)"
    missing = [_hhmm(s.at, tz) for s in slots if s.state == "missing"]
    if len(missing) == 1:
        text += f"; the {missing[0]} one is missing"
    elif missing:
        text += f"; the {', '.join(missing[:-1])} and {missing[-1]} ones are missing"
    return text


def _join(reason: str, summary: str) -> str:
    return f"{reason}; {summary}" if summary else reason


def _hhmm(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def slots_as_dicts(slots: list[Slot]) -> list[dict[str, Any]]:
    """Slots in the JSON shape of ``check --json`` and ``scorecard --json``."""
    return [
        {
            "at": s.at.isoformat(),
            "due_by": s.due_by.isoformat(),
            "arrived": s.arrived.isoformat() if s.arrived else None,
            "state": s.state,
        }
        for s in slots
    ]
