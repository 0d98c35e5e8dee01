"""What goes into a seat's briefing: pure rules over the gate's answers, decisions and metrics.

Nothing here reads a file or the store. :func:`summarize` says what a briefing shows of an
input's content (its declared ``summary`` field, else its first lines); :func:`action_taken`
words the coverage action the gate took; :func:`awaiting_person` picks the open decisions a
person has to act on. The service (:mod:`orgplane.service.briefing`) feeds them the gate's
answers; the surfaces render the result.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from orgplane.org.durations import humanize_age
from orgplane.org.models import Output
from orgplane.watch.readers import lookup, parse_content
from orgplane.watch.timestamps import parse_timestamp

SUMMARY_LINES = 5
"""How many lines of content a briefing shows when no summary field is declared (or found)."""

LINE_LIMIT = 300
"""The longest line of content shown; longer lines are cut, and say so."""

VALUE_LIMIT = 2000
"""The most characters of a summary field's value shown; a longer value is cut, and says so."""

CUT = " [...]"


@dataclass(frozen=True, slots=True)
class Summary:
    """What the briefing shows of one input's content. ``source`` is ``field`` (the declared
    field's value, ``text``) or ``first_lines``; ``note`` says why a declared field was not
    used (absent, unparseable) or that the text was cut."""

    source: Literal["field", "first_lines"]
    text: str
    field: str | None = None
    note: str | None = None


def summarize(output: Output, content: bytes) -> Summary:
    """The summary of ``content`` for ``output``. Guarantees: never raises; the text is at most
    :data:`VALUE_LIMIT` characters (field) or :data:`SUMMARY_LINES` lines of at most
    :data:`LINE_LIMIT` characters (first lines), and any cut is stated in ``note``."""
    field = output.summary
    if field is None or output.format == "text":
        return first_lines(content)
    found, value, why = _field_value(output, content, field)
    if not found:
        fallback = first_lines(content)
        note = f"{why}; the first lines are shown"
        if fallback.note:
            note = f"{note} ({fallback.note})"
        return Summary("first_lines", fallback.text, field, note)
    text = value if isinstance(value, str) else _as_json(value)
    if len(text) > VALUE_LIMIT:
        return Summary(
            "field", text[:VALUE_LIMIT] + CUT, field, f"cut at {VALUE_LIMIT:,} characters"
        )
    return Summary("field", text, field)


def first_lines(content: bytes) -> Summary:
    """The first :data:`SUMMARY_LINES` lines of ``content`` (decoded as UTF-8, undecodable
    bytes replaced), each cut at :data:`LINE_LIMIT` characters."""
    text = content.decode("utf-8", "replace")
    lines = text.splitlines()
    shown = [line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT] + CUT for line in lines]
    notes = []
    if len(lines) > SUMMARY_LINES:
        notes.append(f"{SUMMARY_LINES} of {len(lines):,} lines")
    if any(len(line) > LINE_LIMIT for line in lines[:SUMMARY_LINES]):
        notes.append(f"lines cut at {LINE_LIMIT} characters")
    return Summary("first_lines", "\n".join(shown[:SUMMARY_LINES]), None, "; ".join(notes) or None)


def _field_value(output: Output, content: bytes, field: str) -> tuple[bool, Any, str]:
    if output.format == "csv":
        return _newest_cell(output, content, field)
    reading = parse_content(content, output, "content", datetime.now(UTC))
    if reading.data is None:
        return False, None, f"the content could not be parsed as {output.format}"
    found, value = lookup(reading.data, field)
    if not found:
        return False, None, f"the content has no field {field!r}"
    return True, value, ""


def _newest_cell(output: Output, content: bytes, column: str) -> tuple[bool, Any, str]:
    """The ``column`` cell of the newest row: by the output's timestamp column when it has
    one (as the watcher judges freshness), else the last row."""
    try:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except (ValueError, csv.Error):
        return False, None, "the content could not be parsed as csv"
    if not rows:
        return False, None, "the content has no header row"
    header = [name.strip() for name in rows[0]]
    if column not in header:
        return False, None, f"the content has no column {column!r}"
    body = [row for row in rows[1:] if row]
    if not body:
        return False, None, "the content has no rows"
    newest = body[-1]
    stamp = output.timestamp
    if stamp in header:
        where = header.index(stamp)
        best: datetime | None = None
        for row in body:
            at, _ = parse_timestamp(row[where] if where < len(row) else "")
            if at is not None and (best is None or at > best):
                best, newest = at, row
    index = header.index(column)
    return True, newest[index] if index < len(newest) else "", ""


def _as_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):  # a structure json cannot hold (a YAML-only key type)
        return str(value)


def action_taken(
    given: str,
    protocol: str,
    *,
    seat_id: str,
    producer: str,
    escalated_to: str | None = None,
    as_of: str | None = None,
) -> str:
    """The coverage action the gate took, in words: ``read as current``, ``skipped and
    flagged``, ``last good shown, as of <time>, <age> old``, ``refused (...)`` or ``escalated
    to <person>``. Only ``content`` ever reads as current."""
    if given == "content":
        return "read as current"
    if given == "last_good":
        return f"last good shown, {as_of}" if as_of else "last good shown"
    if given == "nothing":
        if protocol == "use_last_good":
            return "skipped and flagged (no good content was ever kept)"
        return "skipped and flagged"
    if protocol == "escalate":
        return f"refused and escalated to {escalated_to or 'nobody named'}"
    return f"refused: {seat_id} blocks until {producer} fixes it"


def as_of(moment: datetime, age: str) -> str:
    """The label last-good content always carries: ``as of <time>, <age> old``."""
    return f"as of {stamp(moment)}, {age} old"


def stamp(moment: datetime) -> str:
    """A time as a briefing prints it: ``2026-06-21 07:00 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def last_good(moment: datetime | None, now: datetime) -> str:
    """``last good 2026-06-20 16:00 UTC (20h ago)``, or ``never seen good``."""
    if moment is None:
        return "never seen good"
    return f"last good {stamp(moment)} ({humanize_age(now - moment)} ago)"


def awaiting_person(action: str, notify: str | None, deadline: datetime, now: datetime) -> bool:
    """True when an open decision waits on a person: an escalation (to the person told), or a
    ``wait``/``resume`` whose deadline passed with a person to tell (it escalates then). A
    ``skip_and_flag`` decision waits on nobody: its consumers skip and flag, and the briefing
    shows the flag."""
    if action == "escalate":
        return True
    return action in ("wait", "resume") and notify is not None and deadline <= now
