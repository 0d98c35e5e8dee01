"""Schedules with grace, healthchecks semantics, read in the org's time zone; time is injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.errors import UsageError
from orgplane.watch.schedules import schedule_status

TALLY = "0 7,11,15,19 * * *"  # Tally's four pushes a day
GRACE = timedelta(minutes=30)


def at(hour: int, minute: int = 0, day: int = 21) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def test_up_when_the_latest_slot_got_its_push() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 1), at(11, 2)], at(12))
    assert status.status == "up"
    assert status.deadline == at(15, 30)
    assert status.summary == "2 of 2 pushes due so far today (4 a day)"


def test_late_within_grace() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 1), at(11, 2)], at(15, 10))
    assert status.status == "late"
    assert status.reason.startswith("the 15:00 push is due by 15:30")
    assert status.deadline == at(15, 30)


def test_down_is_stamped_at_the_end_of_the_window_not_when_noticed() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 1), at(11, 2)], at(18, 40))
    assert status.status == "down"
    assert status.changed_at == at(15, 30)
    assert status.missed_slot == at(15)
    assert status.last_push == at(11, 2)
    assert status.reason == (
        "the 15:00 push did not arrive by 15:30 (grace 30m); "
        "2 of 3 pushes due so far today (4 a day); the 15:00 one is missing"
    )


def test_slots_are_named_three_of_four() -> None:
    pushes = [at(7, 1), at(15, 3), at(19, 4)]
    status = schedule_status(TALLY, GRACE, "UTC", pushes, at(21))
    assert status.status == "up"
    assert status.summary == "3 of 4 pushes today; the 11:00 one is missing"
    states = [s.state for s in status.slots_today]
    assert states == ["on_time", "missing", "on_time", "on_time"]


def test_before_the_first_slot_no_push_is_said_to_be_missing() -> None:
    # Regression: at 06:00 the summary read "0 of 4 pushes today" before any slot was due.
    status = schedule_status(TALLY, GRACE, "UTC", [at(19, 2, day=20)], at(6))
    assert status.status == "up"
    assert status.summary == "no push due yet today (4 a day, the first at 07:00)"
    assert "0 of" not in status.reason


def test_a_late_push_keeps_its_slot_but_is_marked_late() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 50)], at(9))
    assert status.status == "up"
    assert status.slots_today[0].state == "late"


def test_two_slots_missing() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 0)], at(16))
    assert status.summary == (
        "1 of 3 pushes due so far today (4 a day); the 11:00 and 15:00 ones are missing"
    )


def test_never_pushed_is_down_since_the_first_window_closed() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [], at(8))
    assert status.status == "down"
    assert status.changed_at == at(7, 30)
    assert status.last_push is None


def test_cron_is_read_in_the_org_time_zone() -> None:
    # 07:00 in Paris is 05:00 UTC in June.
    status = schedule_status(TALLY, GRACE, "Europe/Paris", [], at(5, 40))
    assert status.status == "down"
    assert status.changed_at == at(5, 30)
    assert status.reason.startswith("the 07:00 push did not arrive by 07:30")


def test_a_failure_heartbeat_puts_it_down_at_once() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 1)], at(11, 5), failed_at=at(11, 3))
    assert status.status == "down"
    assert status.changed_at == at(11, 3)
    assert status.reason.startswith("the job reported failure at 11:03")


def test_a_push_from_the_future_does_not_count() -> None:
    status = schedule_status(TALLY, GRACE, "UTC", [at(11, 2, day=22)], at(12))
    assert status.status == "down"


def test_unknown_zone_is_bad_input() -> None:
    with pytest.raises(UsageError, match="not a known zone"):
        schedule_status(TALLY, GRACE, "Mars/Olympus", [], at(12))


def test_down_stays_down_into_the_next_slots_grace() -> None:
    # 11:00 went by with nothing; at 15:10 the 15:00 slot is in its grace, but it is still down.
    status = schedule_status(TALLY, GRACE, "UTC", [at(7, 1)], at(15, 10))
    assert status.status == "down"
    assert status.changed_at == at(11, 30)
    assert status.reason.startswith(
        "the 11:00 push did not arrive by 11:30 (grace 30m); the 15:00 one is due by 15:30"
    )


def test_a_grace_longer_than_the_gap_between_slots() -> None:
    every_15 = "*/15 * * * *"
    grace = timedelta(minutes=21)
    late = schedule_status(every_15, grace, "UTC", [at(11, 31)], at(12, 0))
    assert (late.status, late.deadline) == ("late", at(12, 6))  # the 11:45 slot, still in grace
    down = schedule_status(every_15, grace, "UTC", [at(11, 31)], at(12, 7))
    assert (down.status, down.changed_at) == ("down", at(12, 6))


@settings(max_examples=300, deadline=None)
@given(
    cron=st.sampled_from([TALLY, "*/15 * * * *", "30 6 * * 1-5", "0 0 1 * *"]),
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
    offsets=st.lists(st.integers(-3 * 24 * 60, 60), max_size=20),
    minute=st.integers(0, 365 * 24 * 60),
    grace=st.integers(1, 180),
)
def test_any_history_gives_a_status_stamped_no_later_than_now(
    cron: str, tz: str, offsets: list[int], minute: int, grace: int
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    pushes = [now + timedelta(minutes=m) for m in offsets]
    status = schedule_status(cron, timedelta(minutes=grace), tz, pushes, now)
    assert status.status in ("up", "late", "down")
    assert status.changed_at <= now + timedelta(minutes=5)
    if status.status != "down":
        assert status.deadline is not None and status.deadline > now
    due = [s for s in status.slots_today if s.state != "upcoming"]
    got = sum(1 for s in due if s.arrived is not None)
    if due:
        assert status.summary.startswith(f"{got} of {len(due)} pushes")
    elif status.slots_today:
        assert status.summary.startswith("no push due yet today")
