"""Classifying one output from what was read and the time: a pure function, healthchecks style.

The classes, in the order they are decided:

- ``missing``: nothing to read (no file, no publish, unreadable);
- ``corrupt``: unparseable content; a timestamp that is unparseable, naive, in the future beyond
  the clock-skew tolerance, or later than the moment the file was written;
- ``invalid``: the content checks declared in org.yaml fail;
- ``frozen``: the timestamp advanced but the content is unchanged over ``frozen_after``
  observations (old data re-stamped);
- ``stale``: the data is older than ``max_age``;
- ``fresh``: none of the above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jsonschema.exceptions import SchemaError

from orgplane.org.durations import format_duration, humanize_age
from orgplane.org.models import Output
from orgplane.watch.readers import Reading, lookup, non_finite
from orgplane.watch.schemas import schema_validator
from orgplane.watch.timestamps import CLOCK_SKEW, shorten

OK_STATUSES = frozenset({"fresh", "up", "late", "running"})


@dataclass(frozen=True, slots=True)
class Prior:
    """What the store remembers of a subject from earlier passes."""

    status: str
    since: datetime
    data_at: datetime | None = None
    content_hash: str | None = None
    same_content: int = 0
    last_good_at: datetime | None = None
    deadline: datetime | None = None


@dataclass(slots=True)
class Finding:
    """The state of one watched subject at ``checked_at``, with the reason in words."""

    subject_kind: str
    subject_id: str
    seat: str | None
    status: str
    reason: str
    checked_at: datetime
    changed_at: datetime
    data_at: datetime | None = None
    last_good_at: datetime | None = None
    deadline: datetime | None = None
    content_hash: str | None = None
    same_content: int = 0
    source: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for fresh data, a schedule that is up (or within its grace), a running job."""
        return self.status in OK_STATUSES

    @property
    def age(self) -> timedelta | None:
        return self.checked_at - self.data_at if self.data_at else None

    def message(self) -> str:
        """One line for a person: who produced what, what is wrong, and since when it was good."""
        who = f" (seat {self.seat})" if self.seat else ""
        good = (
            f"last good {self.last_good_at.isoformat(timespec='minutes')}"
            if self.last_good_at
            else "never seen good"
        )
        age = self.age
        aged = ""
        if (
            age is not None
            and self.subject_kind == "output"
            and self.status not in ("fresh", "stale")
        ):
            aged = f"; its data is {humanize_age(age)} old"  # fresh and stale say so already
        return f"{self.subject_kind} {self.subject_id}{who} is {self.status}: {self.reason}{aged}; {good}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding (see docs/watch.md)."""
        age = self.age
        return {
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "seat": self.seat,
            "status": self.status,
            "ok": self.ok,
            "reason": self.reason,
            "message": self.message(),
            "source": self.source,
            "data_at": self.data_at,
            "age_seconds": round(age.total_seconds()) if age is not None else None,
            "age": humanize_age(age) if age is not None else None,
            "last_good_at": self.last_good_at,
            "changed_at": self.changed_at,
            "deadline": self.deadline,
            "checked_at": self.checked_at,
            "details": self.details,
        }


def classify_output(
    output: Output, reading: Reading, now: datetime, prior: Prior | None = None
) -> Finding:
    """Classify ``output`` given what was read at ``now``; pure, never raises.

    ``changed_at`` is when the status began: for ``stale`` the moment max_age ran out, for
    ``fresh`` and ``frozen`` the data's time, for content problems the time the content was
    written, for ``missing`` ``now``; an unchanged status keeps the start ``prior`` recorded.
    """
    finding = Finding(
        "output",
        output.id,
        output.producer,
        "fresh",
        "",
        now,
        now,
        source=reading.source,
        last_good_at=prior.last_good_at if prior else None,
    )
    written = reading.written_at or now
    if reading.missing:
        return _settle(finding, "missing", reading.missing, now, prior)
    if reading.error:
        return _settle(finding, "corrupt", reading.error, written, prior)
    if reading.data_at is None:
        problem = content_problem(output, reading)
        if problem:
            return _settle(finding, "invalid", problem, written, prior)
        reason = f"{reading.source} has no rows, so no {output.timestamp!r} time"
        return _settle(finding, "corrupt", reason, written, prior)
    data_at = reading.data_at
    finding.content_hash = reading.content_hash
    if data_at > now + CLOCK_SKEW:
        ahead = humanize_age(data_at - now)
        reason = f"its timestamp {data_at.isoformat()} is {ahead} ahead of now (beyond the {format_duration(CLOCK_SKEW)} clock-skew tolerance)"
        return _settle(finding, "corrupt", reason, written, prior)
    if reading.written_at and data_at > reading.written_at + CLOCK_SKEW:
        reason = (
            f"its timestamp {data_at.isoformat()} is later than the moment it was written "
            f"({reading.written_at.isoformat(timespec='seconds')}): the timestamp cannot be true"
        )
        return _settle(finding, "corrupt", reason, written, prior)
    finding.data_at = data_at  # a time that can be believed from here on
    problem = content_problem(output, reading)
    if problem:
        return _settle(finding, "invalid", problem, written, prior)
    finding.same_content = _same_content(reading, data_at, prior)
    if finding.same_content >= output.frozen_after:
        reason = (
            f"the content has not changed over {finding.same_content} updates while its "
            f"timestamp kept advancing (now {data_at.isoformat(timespec='minutes')}): old data "
            "re-stamped as new"
        )
        return _settle(finding, "frozen", reason, data_at, prior)
    deadline = data_at + output.max_age
    age = now - data_at
    if now >= deadline:
        finding.last_good_at = data_at  # valid data, only old: good as of its own time
        reason = f"its data is {humanize_age(age)} old, over its max_age of {format_duration(output.max_age)}"
        return _settle(finding, "stale", reason, deadline, prior)
    finding.deadline = deadline
    finding.last_good_at = data_at
    reason = f"{humanize_age(age)} old, stale after {deadline.isoformat(timespec='minutes')}"
    return _settle(finding, "fresh", reason, data_at, prior)


def _settle(
    finding: Finding, status: str, reason: str, changed_at: datetime, prior: Prior | None
) -> Finding:
    finding.status = status
    finding.reason = reason
    # The status began earlier if it is unchanged since the last pass.
    finding.changed_at = prior.since if prior and prior.status == status else changed_at
    if prior and status != "frozen" and finding.content_hash is None:
        finding.content_hash = prior.content_hash
        finding.same_content = prior.same_content
    return finding


def _same_content(reading: Reading, data_at: datetime, prior: Prior | None) -> int:
    """How many observed updates in a row carried this same content."""
    if reading.same_content is not None:  # a publish counts its own repeats
        return reading.same_content
    if prior is None or prior.content_hash != reading.content_hash:
        return 1
    if prior.data_at is not None and data_at > prior.data_at:
        return prior.same_content + 1
    return max(prior.same_content, 1)


def content_problem(output: Output, reading: Reading) -> str | None:
    """The first failing content check declared for ``output``, in words; None if all pass."""
    checks = output.checks
    if output.format == "csv":
        missing = [name for name in checks.required if name not in reading.columns]
        if missing:
            return f"column {', '.join(missing)} is missing (required)"
    else:
        for name in checks.required:
            if not lookup(reading.data, name)[0]:
                return f"required field {name!r} is missing"
    if checks.min_rows is not None:
        rows = reading.rows
        if rows is None:
            return f"min_rows {checks.min_rows} needs a list of rows, found a {type(reading.data).__name__}"
        if rows < checks.min_rows:
            return f"{rows} rows, fewer than the {checks.min_rows} required"
    for name, bounds in checks.ranges.items():
        problem = _range_problem(output, reading, name, bounds.min, bounds.max)
        if problem:
            return problem
    if checks.json_schema is not None and output.format in ("json", "yaml"):
        # jsonschema lets NaN through every minimum and maximum (NaN < x is False).
        where = non_finite(reading.data)
        if where is not None:
            return f"{where} is not a finite number (NaN or infinity)"
        return _schema_problem(checks.json_schema, reading.data)
    return None


def _range_problem(
    output: Output, reading: Reading, name: str, low: float | None, high: float | None
) -> str | None:
    if output.format == "csv":
        cells = reading.data.get(name) if isinstance(reading.data, dict) else None
        if cells is None:
            return f"column {name!r} (range-checked) is missing"
        values: list[Any] = list(cells)
    else:
        found, value = lookup(reading.data, name)
        if not found:
            return f"field {name!r} (range-checked) is missing"
        values = [value]
    for value in values:
        number = _number(value)
        if number is None:
            shown = shorten(repr(value))
            return f"{name} is {shown}, not a finite number"
        if low is not None and number < low:
            return f"{name} is {shorten(str(value))}, below its minimum {low:g}"
        if high is not None and number > high:
            return f"{name} is {shorten(str(value))}, above its maximum {high:g}"
    return None


def _number(value: Any) -> float | None:
    """The value as a finite float; None for anything else (NaN, infinities, overflow, text)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        return None
    return number if number is not None and math.isfinite(number) else None


def _schema_problem(schema: dict[str, Any], data: Any) -> str | None:
    try:
        validator = schema_validator(schema)
        error = next(iter(validator.iter_errors(data)), None)
    except SchemaError as exc:
        return f"checks.json_schema in org.yaml is itself invalid: {exc.message}"
    except RecursionError:
        return "JSON Schema: the document is nested too deeply to validate"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the document"
    return f"JSON Schema: at {where}: {error.message}"
