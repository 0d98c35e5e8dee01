"""The weekly audit use case: ``orgplane audit weekly [--since DATE]``.

The figures are computed by :func:`orgplane.learn.audit.weekly_audit`; this module chooses the
window (the seven days before now, or the seven days from ``--since``) and returns the result.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orgplane.errors import UsageError
from orgplane.learn.audit import WEEK
from orgplane.learn.audit import WeeklyAudit as _CoreAudit
from orgplane.service.models import Result
from orgplane.service.session import Session

__all__ = ["WeeklyAudit", "parse_since", "weekly_audit"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIX = "give a date (YYYY-MM-DD) or an ISO 8601 time with its offset, e.g. 2026-11-23T00:00+00:00"


class WeeklyAudit(_CoreAudit, Result):
    """The weekly audit (the ``orgplane audit weekly --json`` shape): the window, headline
    counts, incidents by seat and tier, response times, repeats, learnings applied and not
    held, overdue follow-ups, late decisions and the org's changes."""


def parse_since(text: str, timezone: str = "UTC", *, flag: str = "--since") -> datetime:
    """The start of a window given as ``text``: a date (midnight in the org's ``timezone``) or
    an ISO 8601 time with its offset. UsageError naming ``flag`` and the fix for anything else
    (a naive time is refused, never guessed)."""
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise UsageError(f"{flag} {text!r} is not a date; {_FIX}") from None
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return _utc(datetime.combine(day, time(0), tzinfo=zone), text, flag)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date or a time; {_FIX}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(f"{flag} {text!r} has no offset; {_FIX}")
    return _utc(moment, text, flag)


def _utc(moment: datetime, text: str, flag: str) -> datetime:
    try:  # a time at the very edge of the calendar has no UTC form
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise UsageError(f"{flag} {text!r} is out of range; {_FIX}") from None


def weekly_audit(
    session: Session,
    *,
    since: str | datetime | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    flag: str = "--since",
) -> WeeklyAudit:
    """The audit of seven days: from ``since`` (text as :func:`parse_since` reads it, or a
    time), else the seven days before ``now``. UsageError naming ``flag`` (how the caller's
    surface spells it) when it is not a time or starts in the future. Read-only: it writes nothing to the store. Any seat may read it (``actor``)."""
    from orgplane.learn.audit import weekly_audit as compute
    from orgplane.store.types import utcnow

    del actor  # the audit shows what every seat's dashboard shows: no rule narrows it
    org = session.org()
    at = now or utcnow()
    if since is None:
        start = at - WEEK
    elif isinstance(since, str):
        start = parse_since(since, org.timezone, flag=flag)
    else:
        if since.tzinfo is None:
            raise UsageError(f"{flag} {since.isoformat()} has no offset; {_FIX}")
        start = since.astimezone(UTC)
    if start > at:
        raise UsageError(
            f"{flag} {start.date().isoformat()} is in the future; give a day up to today"
        )
    with session.store().read() as conn:
        audit = compute(conn, org, since=start, until=start + WEEK)
    return WeeklyAudit.model_validate(audit.model_dump())
