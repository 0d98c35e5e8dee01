"""Durations written the way people write them in an org file: ``18h``, ``30m``, ``7d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[smhdw])+$")

_LONGEST = 100 * 365 * 86400
DURATION_HINT = "write a number and a unit (s, m, h, d, w), e.g. 18h, 30m, 7d or 1h30m"


@lru_cache(maxsize=4096)  # an org of thousands of outputs repeats a handful of durations
def parse_duration(text: str) -> timedelta:
    """Parse ``18h``-style text into a positive timedelta; raise ValueError naming the fix."""
    cleaned = text.strip().lower().replace(" ", "")
    shown = repr(text) if len(text) <= 40 else repr(f"{text[:30]}...")
    if not _WHOLE.match(cleaned):
        raise ValueError(f"malformed duration {shown}: {DURATION_HINT}")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"duration {shown} must be longer than zero: {DURATION_HINT}")
    if seconds > _LONGEST:  # also keeps timedelta() from overflowing on 99999999999999999999d
        raise ValueError(f"duration {shown} is longer than 100 years: {DURATION_HINT}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the shortest org-file form (``18h``, ``1h30m``, ``45s``)."""
    seconds = round(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def humanize_age(value: timedelta) -> str:
    """Describe an age for a person: ``2d 3h``, ``45m``, ``12s``; negative ages read 'in the future'."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return f"{humanize_age(-value)} in the future"
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"
