"""Reading timestamps written by other programs: strict ISO 8601 with an offset, nothing guessed.

A value without a UTC offset (naive) or that is not a time at all is reported with a reason a
person can act on; it is never interpreted in some assumed zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CLOCK_SKEW = timedelta(minutes=5)
"""How far a timestamp may lie in the future (or after its file's mtime) before it is corrupt."""

EXAMPLE = "2026-06-21T07:00:00Z"


def parse_timestamp(value: object, name: str = "timestamp") -> tuple[datetime | None, str | None]:
    """Parse ``value`` into an aware UTC datetime, or return ``(None, reason)``.

    Accepts ISO 8601 text with an offset (``Z`` or ``+02:00``) and aware datetimes. Naive times,
    dates, numbers and anything else give a reason naming ``name`` and the fix. Never raises.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return None, f"{name} {value.isoformat()!r} has no UTC offset; write e.g. {EXAMPLE}"
        return _in_utc(value, name, value.isoformat())
    if not isinstance(value, str):
        shown = shorten(repr(value))
        return None, f"{name} is {shown}, not a time; write ISO 8601 text such as {EXAMPLE}"
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, f"{name} {shorten(repr(value))} is not a valid time; write e.g. {EXAMPLE}"
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None, (
            f"{name} {shorten(repr(value))} has no UTC offset (naive), so its zone is unknown; "
            f"write e.g. {EXAMPLE}"
        )
    return _in_utc(parsed, name, value)


def _in_utc(moment: datetime, name: str, shown: str) -> tuple[datetime | None, str | None]:
    try:
        return moment.astimezone(UTC), None
    except OverflowError:  # 0001-01-01T00:00+05:00 or 9999-12-31T23:59-05:00 in UTC
        return None, f"{name} {shorten(repr(shown))} is out of range in UTC; write e.g. {EXAMPLE}"


def parse_cli_time(text: str, now: datetime, option: str = "--at") -> datetime:
    """Parse a time given on the command line; raise ValueError (one line) if naive, unparseable
    or more than the clock-skew tolerance in the future."""
    parsed, problem = parse_timestamp(text, option)
    if parsed is None:
        raise ValueError(problem)
    if parsed > now + CLOCK_SKEW:
        raise ValueError(
            f"{option} {text!r} is in the future; give the time the value was measured"
        )
    return parsed


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for quoting outside input."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
