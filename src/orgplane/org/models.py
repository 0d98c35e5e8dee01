"""The org as declared in org.yaml, as pydantic models.

Each model validates one item on its own (a seat, an output, ...); the references between items
(``reports_to``, owners, capabilities, inputs) are checked afterwards in :mod:`orgplane.org.checks`
so that every mistake in a file is reported in one pass.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    model_validator,
)

from orgplane.org.durations import format_duration, parse_duration
from orgplane.respond.conditions import parse_condition
from orgplane.respond.kinds import EventKind

ID_PATTERN = r"^[a-z][a-z0-9_-]*$"
ID_HINT = "use lower-case letters, digits, '-' or '_', starting with a letter"


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"duration {value!r} has no unit: write e.g. {value}h or {value}m")
    if not isinstance(value, str):
        raise ValueError("a duration is text such as 18h, 30m or 7d")
    return parse_duration(value)


@lru_cache(maxsize=4096)  # croniter parses each expression in full; an org repeats a few
def _valid_cron(value: str) -> bool:
    from croniter import croniter  # imported when an org has a schedule, not by every command

    return bool(croniter.is_valid(value))


def _cron(value: str) -> str:
    if not _valid_cron(value):
        raise ValueError(
            f"malformed cron expression {value!r}: write five fields "
            "'minute hour day-of-month month day-of-week', e.g. '0 6,11,15,20 * * *'"
        )
    return value


Duration = Annotated[
    timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)
]
Cron = Annotated[str, AfterValidator(_cron)]
SeatId = Annotated[str, Field(pattern=ID_PATTERN)]

DEFAULT_MAX_AGE = timedelta(hours=18)
DEFAULT_GRACE = timedelta(minutes=30)
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_RETENTION = timedelta(days=90)
MIN_RETENTION = timedelta(days=8)
"""The watcher looks back 8 days to judge schedules (a weekly cron needs a week of pushes)."""


def _retention(value: timedelta) -> timedelta:
    if value < MIN_RETENTION:
        raise ValueError(
            f"retention {format_duration(value)} is shorter than the "
            f"{format_duration(MIN_RETENTION)} the watcher looks back to judge schedules; "
            "write at least 8d (default 90d)"
        )
    return value


Retention = Annotated[Duration, AfterValidator(_retention)]


def _share(value: Any) -> Any:
    """A share written as ``50%`` or as a fraction ``0.5``; the model keeps the fraction."""
    if isinstance(value, bool):
        raise ValueError("a share is a percentage such as 50% (or a fraction such as 0.5)")
    written = value
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError(f"share {value!r}: write a percentage such as 50%")
        try:
            number = float(text[:-1])
        except ValueError:
            raise ValueError(f"share {value!r}: write a percentage such as 50%") from None
        value = number / 100
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"share {written!r} is outside 0%..100%; write e.g. 50%")
    return float(value)


def _format_share(value: float) -> str:
    return f"{value * 100:g}%"


Share = Annotated[float, BeforeValidator(_share), PlainSerializer(_format_share, return_type=str)]
DEFAULT_NOT_DELEGATED_AT = 0.5

_URL_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _notify_url(value: str) -> str:
    # Only the shape here (every command loads the org, and Apprise costs 0.3 s to import):
    # whether Apprise understands the URL is asked by 'orgplane validate' (org/reach.py).
    if not _URL_SHAPE.match(value):
        raise ValueError(
            f"{value!r} is not a notification URL: write an Apprise URL such as "
            "'mailto://user:${SMTP_PASSWORD}@example.com' or 'json://host/path'"
        )
    if "$" in _VARIABLE.sub("", value):
        raise ValueError(
            f"{value!r} has a '$' that is not a '${{NAME}}' variable: write ${{NAME}} with "
            "letters, digits and '_', taken from the environment when it is sent"
        )
    return value


NotifyUrl = Annotated[str, AfterValidator(_notify_url)]
"""An Apprise URL; ``${NAME}`` in it is read from the environment at send time."""


def url_variables(url: str) -> list[str]:
    """The environment variables a notification URL reads (``${NAME}``), in order."""
    return _VARIABLE.findall(url)


class Declared(BaseModel):
    """Base of every declared item: unknown keys are mistakes, items are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Protocol = Literal["skip_and_flag", "use_last_good", "block", "escalate"]


class InputProtocol(Declared):
    """What a consuming seat does when one of its inputs is stale, corrupt or missing."""

    protocol: Protocol = "skip_and_flag"
    escalate_to: SeatId | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_protocol(cls, value: Any) -> Any:
        # `dash-analysis: skip_and_flag` is the short form of `{protocol: skip_and_flag}`.
        if isinstance(value, str):
            return {"protocol": value}
        if value is None:
            return {}
        return value

    @model_validator(mode="after")
    def _escalation_needs_person(self) -> InputProtocol:
        if self.protocol == "escalate" and not self.escalate_to:
            raise ValueError("protocol 'escalate' needs 'escalate_to: <human seat id>'")
        return self


DEFAULT_EMPTY_AFTER = timedelta(days=7)


class HealthRules(Declared):
    """When a seat counts as running on empty (``orgplane seats health``): its latest
    ``empty_runs`` runs in a row got no records or ended with none done, an output of it kept
    the same content for ``empty_after``, or ``corrections`` of its runs within ``empty_after``
    needed a person to correct them (a record held, in doubt, or checkpointed by hand)."""

    empty_after: Duration = DEFAULT_EMPTY_AFTER
    empty_runs: int = Field(default=3, ge=1, le=1000)
    corrections: int = Field(default=3, ge=1, le=1000)


class SeatHealthRules(Declared):
    """A seat's own thresholds of :class:`HealthRules`; a key left out keeps the org's."""

    empty_after: Duration | None = None
    empty_runs: int | None = Field(default=None, ge=1, le=1000)
    corrections: int | None = Field(default=None, ge=1, le=1000)


class Retirement(Declared):
    """The record of a seat's retirement hearing: every capability it held and who took it."""

    on: date
    reason: str | None = None
    redistributed: dict[str, SeatId] = Field(default_factory=dict)


class Seat(Declared):
    """A role on the chart, held by a person or an agent."""

    id: SeatId
    title: str
    kind: Literal["human", "agent"]
    holder: str | None = None
    reports_to: SeatId | None = None
    owner: SeatId | None = None
    capabilities: list[str] = Field(default_factory=list)
    status: Literal["active", "retired"] = "active"
    sops: list[str] = Field(default_factory=list)
    inputs: dict[str, InputProtocol] = Field(default_factory=dict)
    retired: Retirement | None = None
    urgency: SeatId | None = None
    notify_urls: list[NotifyUrl] = Field(default_factory=list)
    health: SeatHealthRules | None = None
    answers_within: Duration | None = None
    """How fast this person answers a hand-off: an item older than that is a failure event."""

    @model_validator(mode="after")
    def _retirement_matches_status(self) -> Seat:
        if self.kind == "agent" and self.answers_within is not None:
            raise ValueError(
                "answers_within is for human seats: it says how fast a person answers the "
                "records agents hand to them; remove it from this agent seat"
            )
        if self.kind == "agent" and self.notify_urls:
            raise ValueError(
                "notify_urls is for human seats: an agent seat's failures are told to its "
                "owner, so put the URL on the owner's seat"
            )
        if self.status == "retired" and self.capabilities:
            raise ValueError(
                "a retired seat holds no capabilities: move them to "
                "'retired: {redistributed: {capability: seat}}'"
            )
        if self.status == "active" and self.retired is not None:
            raise ValueError("'retired' is only for seats with 'status: retired'")
        return self


class Range(Declared):
    # A NaN bound would let every value through (NaN < x is False): bounds are finite.
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)


class ContentChecks(Declared):
    """Checks on the content of an output beyond its freshness."""

    required: list[str] = Field(default_factory=list)
    min_rows: int | None = Field(default=None, ge=0)
    ranges: dict[str, Range] = Field(default_factory=dict)
    json_schema: dict[str, Any] | None = None


def _summary_path(value: str) -> str:
    if not value.strip() or any(not part.strip() for part in value.split(".")):
        raise ValueError(
            f"summary {value!r} is not a field path: write a field (headline), a dotted path "
            "(meta.headline, items.0.name) or, for csv, a column name"
        )
    return value


class Output(Declared):
    """Shared state a seat produces for others: a file on disk or content published to orgplane."""

    id: SeatId
    producer: SeatId
    description: str | None = None
    location: str | None = None
    format: Literal["json", "yaml", "csv", "text"] = "json"
    timestamp: str | None = None
    max_age: Duration = DEFAULT_MAX_AGE
    schedule: Cron | None = None
    grace: Duration = DEFAULT_GRACE
    checks: ContentChecks = Field(default_factory=ContentChecks)
    critical: bool = False
    coverage_seat: SeatId | None = None
    frozen_after: int = Field(default=3, ge=2)
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1)
    urgency: SeatId | None = None
    summary: Annotated[str, AfterValidator(_summary_path)] | None = None
    """What a briefing shows of this output: a dotted field path (json, yaml) or a column of the
    newest row (csv); without it, the first lines of the content."""


HandledAction = Literal["retry", "skip_record", "fail_run", "escalate"]
"""What the runner does about a handled error."""


class HandledError(Declared):
    """A known error of a process, mapped to what the runner does about it."""

    match: str = Field(min_length=1)
    action: HandledAction
    message: str
    retries: int = Field(default=3, ge=0)
    backoff: Duration = timedelta(seconds=1)
    escalate_to: SeatId | None = None
    when_exhausted: Literal["fail_run", "pause"] = "fail_run"
    """What a ``retry`` entry does once its retries are spent: ``fail_run`` (the default: the
    run fails) or ``pause``: the error is transient (a dropped connection, a timeout, a rate
    limit), so the run pauses at that record, not failed, and a resume continues from it."""

    @model_validator(mode="after")
    def _escalation_needs_person(self) -> HandledError:
        if self.action == "escalate" and not self.escalate_to:
            raise ValueError("action 'escalate' needs 'escalate_to: <human seat id>'")
        if self.when_exhausted != "fail_run" and self.action != "retry":
            raise ValueError(
                f"'when_exhausted' is for action 'retry' only (this entry's action is "
                f"{self.action!r}); remove it or make the action 'retry'"
            )
        return self


class Stage(Declared):
    """One step of a process; ``effectful`` stages touch the outside world and run once."""

    name: SeatId
    kind: Literal["pure", "effectful"] = "pure"
    description: str | None = None


class Process(Declared):
    """A seat's staged pipeline, run one batch at a time."""

    id: SeatId
    seat: SeatId
    description: str | None = None
    module: str | None = None
    stages: list[Stage] = Field(min_length=1)
    handled_errors: list[HandledError] = Field(default_factory=list)
    urgency: SeatId | None = None
    human_when_running: str | None = None
    human_when_failing: str | None = None
    not_delegated_at: Share = DEFAULT_NOT_DELEGATED_AT
    """The share (0..1) of this process's failures ending with a person doing the work at
    which the delegation ledger flags it "not really delegated"."""

    @model_validator(mode="after")
    def _unique_stage_names(self) -> Process:
        names = [s.name for s in self.stages]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"stage names must be unique; repeated: {', '.join(duplicates)}")
        return self


def _condition(value: str) -> str:
    parse_condition(value)  # refused at load, with its line, rather than when an event comes
    return value


RULE_SELECTORS = {"process": "processes", "output": "outputs", "metric": "metrics", "seat": "seats"}
"""The selectors of a ``when:`` rule and the section each names an item of."""


class RaiseRule(Declared):
    """A ``when:`` rule of a tier: an event matching every selector given (and the condition on
    its context, when one is written) is raised to this tier if it is more urgent."""

    kind: EventKind | None = None
    process: SeatId | None = None
    output: SeatId | None = None
    metric: SeatId | None = None
    seat: SeatId | None = None
    condition: Annotated[str, AfterValidator(_condition)] | None = None

    @model_validator(mode="after")
    def _selects_something(self) -> RaiseRule:
        if not any(
            getattr(self, key) is not None for key in (*RULE_SELECTORS, "kind", "condition")
        ):
            raise ValueError(
                "a 'when' rule needs at least one of kind, process, output, metric, seat, "
                "condition (an empty rule would raise every event)"
            )
        return self


class UrgencyTier(Declared):
    """A pre-made response: how long a failure may wait and who hears about it.

    ``notify`` None means the failing seat's owner. ``attempts`` bounds how often the ``resume``
    action restarts one run before a person is told. ``kinds`` makes this the tier of those event
    kinds when nothing more specific is declared; ``when`` rules raise an event to this tier.
    ``notify_urls`` are told of every notification of this tier besides the seat's own;
    ``repeat`` re-sends an unacknowledged escalation this often.
    """

    deadline: Duration
    action: Literal["wait", "resume", "skip_and_flag", "escalate"]
    notify: SeatId | None = None
    description: str | None = None
    ack_timeout: Duration | None = None
    attempts: int = Field(default=3, ge=1, le=100)
    kinds: list[EventKind] = Field(default_factory=list)
    when: list[RaiseRule] = Field(default_factory=list)
    notify_urls: list[NotifyUrl] = Field(default_factory=list)
    repeat: Duration | None = None

    @property
    def silence(self) -> timedelta:
        """How long an acknowledgement silences a decision: ``ack_timeout``, else the deadline."""
        return self.ack_timeout if self.ack_timeout is not None else self.deadline


class Metric(Declared):
    """A scorecard KPI pushed by its owner seat on a schedule."""

    id: SeatId
    owner: SeatId
    description: str | None = None
    unit: str | None = None
    target: float | None = Field(default=None, allow_inf_nan=False)
    direction: Literal["at_least", "at_most"] = "at_least"
    schedule: Cron | None = None
    grace: Duration = DEFAULT_GRACE
    max_age: Duration | None = None
    urgency: SeatId | None = None


class Org(Declared):
    """The whole declared org. ``source`` is the file it was read from, when there was one."""

    name: str
    timezone: str = "UTC"
    retention: Retention = DEFAULT_RETENTION
    seats: dict[str, Seat] = Field(default_factory=dict)
    outputs: dict[str, Output] = Field(default_factory=dict)
    processes: dict[str, Process] = Field(default_factory=dict)
    urgency: dict[str, UrgencyTier] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(default_factory=dict)
    health: HealthRules = Field(default_factory=HealthRules)
    source: Path | None = Field(default=None, exclude=True)
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)
    """Lines of the keys rules are quoted by (``processes.x.urgency``), filled by the loader."""

    def where(self, path: str) -> str:
        """``file:line`` of the declared key at dotted ``path`` (line 0 when not from a file)."""
        return f"{self.source or 'org.yaml'}:{self.line(path)}"

    def line(self, path: str) -> int:
        """The line of the declared key at dotted ``path`` (0 when not known)."""
        return self._lines.get(path, 0)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the org file are resolved against."""
        return self.source.parent if self.source else Path.cwd()

    def health_rules(self, seat_id: str) -> HealthRules:
        """The on-empty thresholds of ``seat_id``: the org's ``health``, overridden key by key
        by the seat's own ``health``."""
        own = self.seats[seat_id].health
        if own is None:
            return self.health
        changed = {k: v for k, v in own.model_dump().items() if v is not None}
        return self.health.model_copy(update=changed)

    def active_seats(self) -> list[Seat]:
        return [s for s in self.seats.values() if s.status == "active"]

    def reporting_line(self, seat_id: str) -> list[Seat]:
        """The seats above ``seat_id``, nearest first (stops at a cycle rather than looping)."""
        line: list[Seat] = []
        seen = {seat_id}
        current = self.seats.get(seat_id)
        while current and current.reports_to and current.reports_to not in seen:
            seen.add(current.reports_to)
            current = self.seats.get(current.reports_to)
            if current:
                line.append(current)
        return line

    def effective_sops(self, seat_id: str) -> list[str]:
        """A seat's own SOPs followed by those authored by human seats above it."""
        seat = self.seats[seat_id]
        inherited = [
            sop
            for above in self.reporting_line(seat_id)
            if above.kind == "human"
            for sop in above.sops
        ]
        return [*seat.sops, *inherited]

    def consumers_of(self, output_id: str) -> dict[str, InputProtocol]:
        """Every active seat that reads ``output_id``, with its declared protocol."""
        return {s.id: s.inputs[output_id] for s in self.active_seats() if output_id in s.inputs}

    def has_coverage(self, output_id: str) -> bool:
        """True when the output's failure response is written down: consumers say what they do,
        and a critical output names the seat that picks up its work."""
        output = self.outputs[output_id]
        if not self.consumers_of(output_id):
            return False
        return not output.critical or output.coverage_seat is not None


SECTIONS: dict[str, type[Declared]] = {
    "seats": Seat,
    "outputs": Output,
    "processes": Process,
    "urgency": UrgencyTier,
    "metrics": Metric,
}
