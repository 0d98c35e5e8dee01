"""A learning's change: the six kinds (pydantic models), parsed from what a person types.

A change is one of ``handle_error`` CODE=ACTION, ``set`` SECTION:ITEM.KEY=VALUE, ``coverage``
SEAT:OUTPUT=PROTOCOL, ``retire`` SEAT, ``follow_up`` TEXT with an owner and a due time, or
``no_change`` REASON; each parser refuses a malformed one with a line naming its flag and an
example. Applying a change is the close gate's (:mod:`orgplane.learn.learnings`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orgplane.errors import UsageError
from orgplane.org.models import ID_PATTERN, HandledAction, Metric, Output, Process, Protocol

__all__ = [
    "CHANGE_FLAGS",
    "SECTIONS",
    "SETTABLE",
    "Change",
    "Coverage",
    "FollowUp",
    "HandleError",
    "NoChange",
    "Retire",
    "SetKey",
    "build",
    "change_from_options",
    "describe",
    "parse_coverage",
    "parse_due",
    "parse_handle_error",
    "parse_set",
]

_T = TypeVar("_T")

ACTIONS: tuple[str, ...] = get_args(HandledAction)
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HandleError(_Change):
    """Add ``code`` to the incident's process's handled errors, mapped to ``action``."""

    kind: Literal["handle_error"] = "handle_error"
    code: str = Field(min_length=1, max_length=200)
    action: HandledAction
    escalate_to: str | None = None


class SetKey(_Change):
    """Set one known key of an output, metric or process to ``value`` (a YAML scalar)."""

    kind: Literal["set"] = "set"
    section: Literal["output", "metric", "process"]
    item: str = Field(pattern=ID_PATTERN)
    key: str
    value: str | int | float | bool | None


class Coverage(_Change):
    """Seat ``seat`` declares what it does when its input ``output`` fails."""

    kind: Literal["coverage"] = "coverage"
    seat: str = Field(pattern=ID_PATTERN)
    output: str = Field(pattern=ID_PATTERN)
    protocol: Protocol
    escalate_to: str | None = None


class Retire(_Change):
    """The seat was retired by a decided hearing (the hearing edits org.yaml, not this)."""

    kind: Literal["retire"] = "retire"
    seat: str = Field(pattern=ID_PATTERN)


class FollowUp(_Change):
    """A change someone must still make: owned by a seat, nagged when ``due`` passes."""

    kind: Literal["follow_up"] = "follow_up"
    text: str = Field(min_length=1, max_length=4000)
    owner: str = Field(pattern=ID_PATTERN)
    due: datetime


class NoChange(_Change):
    """Nothing in the org changes, and why."""

    kind: Literal["no_change"] = "no_change"
    reason: str = Field(min_length=1, max_length=4000)


Change = Annotated[
    HandleError | SetKey | Coverage | Retire | FollowUp | NoChange, Field(discriminator="kind")
]

CHANGE_FLAGS = (
    "--handle-error CODE=ACTION",
    "--set output|metric|process:ID.KEY=VALUE",
    "--coverage SEAT:OUTPUT=PROTOCOL",
    "--retire SEAT",
    "--follow-up TEXT --owner SEAT --due DATE",
    "--no-change REASON",
)
"""The one-of choices of a learning's change, as a person types them."""

_NOT_SETTABLE = {"id", "checks", "stages", "handled_errors"}
SETTABLE: dict[str, tuple[str, ...]] = {
    section: tuple(sorted(set(model.model_fields) - _NOT_SETTABLE))
    for section, model in (("output", Output), ("metric", Metric), ("process", Process))
}
"""The keys ``set`` may change, per section: the scalar settings of each model."""

SECTIONS = {"output": "outputs", "metric": "metrics", "process": "processes"}


def describe(change: HandleError | SetKey | Coverage | Retire | FollowUp | NoChange) -> str:
    """The change in one line, as the flag that asked for it reads."""
    if isinstance(change, HandleError):
        to = f":{change.escalate_to}" if change.escalate_to else ""
        return f"handle-error {change.code}={change.action}{to}"
    if isinstance(change, SetKey):
        return f"set {change.section}:{change.item}.{change.key}={change.value}"
    if isinstance(change, Coverage):
        to = f":{change.escalate_to}" if change.escalate_to else ""
        return f"coverage {change.seat}:{change.output}={change.protocol}{to}"
    if isinstance(change, Retire):
        return f"retire {change.seat}"
    if isinstance(change, FollowUp):
        return f"follow-up {change.text!r} owner {change.owner} due {change.due.isoformat()}"
    return f"no change: {change.reason}"


# --- parsing what a person types --------------------------------------------------------------


def build(make: Callable[[], _T], flag: str, example: str) -> _T:
    """``make()``, a pydantic model from what a person typed after ``flag``; its validation
    errors as one UsageError naming the flag and an example."""
    try:
        return make()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"{flag}: {reasons}; e.g. {flag} {example}") from None


def parse_handle_error(text: str) -> HandleError:
    """``CODE=ACTION`` (``CODE=escalate:SEAT`` for an escalation) as a change."""
    example = "LM-503=retry"
    code, sep, action = text.rpartition("=")
    if not sep or not code.strip() or not action.strip():
        raise UsageError(f"--handle-error {text!r}: write CODE=ACTION, e.g. {example}")
    action, _, escalate_to = action.strip().partition(":")
    if action not in ACTIONS:
        raise UsageError(
            f"--handle-error {text!r}: the action is one of {', '.join(ACTIONS)} "
            f"(escalate:SEAT names the person); e.g. {example}"
        )
    return build(
        lambda: HandleError(
            code=code.strip(), action=action, escalate_to=escalate_to.strip() or None
        ),
        "--handle-error",
        example,
    )


def _scalar(text: str) -> str | int | float | bool | None:
    """A value as YAML 1.2 reads it (``24h`` text, ``12`` a number, ``true`` a boolean)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        value = YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        return text
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return text


def parse_set(text: str) -> SetKey:
    """``SECTION:ITEM.KEY=VALUE`` (SECTION output, metric or process) as a change; the key must
    be one the section's model declares (a scalar setting), the value is read as YAML."""
    example = "output:dash-analysis.max_age=24h"
    target, sep, raw = text.partition("=")
    section, colon, rest = target.partition(":")
    item, dot, key = rest.partition(".")
    section, item, key = section.strip(), item.strip(), key.strip()
    if not sep or not colon or not dot or not item or not key:
        raise UsageError(f"--set {text!r}: write SECTION:ID.KEY=VALUE, e.g. {example}")
    if section not in SETTABLE:
        raise UsageError(
            f"--set {text!r}: the section is output, metric or process; e.g. {example}"
        )
    if key not in SETTABLE[section]:
        raise UsageError(
            f"--set {text!r}: {section} has no settable key {key!r}; "
            f"one of {', '.join(SETTABLE[section])}"
        )
    return build(
        lambda: SetKey(section=section, item=item, key=key, value=_scalar(raw.strip())),
        "--set",
        example,
    )


def parse_coverage(text: str) -> Coverage:
    """``SEAT:OUTPUT=PROTOCOL`` (``escalate:SEAT`` for an escalation) as a change."""
    example = "radar:dash-analysis=use_last_good"
    target, sep, protocol = text.partition("=")
    seat, colon, output = target.partition(":")
    protocol, _, escalate_to = protocol.strip().partition(":")
    if not sep or not colon or not seat.strip() or not output.strip():
        raise UsageError(f"--coverage {text!r}: write SEAT:OUTPUT=PROTOCOL, e.g. {example}")
    if protocol not in PROTOCOLS:
        raise UsageError(
            f"--coverage {text!r}: the protocol is one of {', '.join(PROTOCOLS)} "
            f"(escalate:SEAT names the person); e.g. {example}"
        )
    return build(
        lambda: Coverage(
            seat=seat.strip(),
            output=output.strip(),
            protocol=protocol,
            escalate_to=escalate_to.strip() or None,
        ),
        "--coverage",
        example,
    )


def parse_due(text: str) -> datetime:
    """A due date (``2026-12-07``: its start, UTC) or time (ISO 8601; without an offset, UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--due {text!r}: give a date (2026-12-07) or a time (2026-12-07T09:00Z)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def change_from_options(
    *,
    handle_error: str | None = None,
    set_: str | None = None,
    coverage: str | None = None,
    retire: str | None = None,
    follow_up: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    no_change: str | None = None,
) -> HandleError | SetKey | Coverage | Retire | FollowUp | NoChange:
    """Exactly one change from the options a person gave; UsageError naming the choices for
    none or several, and for ``--owner``/``--due`` without ``--follow-up`` or the reverse."""
    given = {
        "--handle-error": handle_error,
        "--set": set_,
        "--coverage": coverage,
        "--retire": retire,
        "--follow-up": follow_up,
        "--no-change": no_change,
    }
    chosen = [flag for flag, value in given.items() if value is not None]
    if len(chosen) != 1:
        said = "none" if not chosen else " and ".join(chosen)
        raise UsageError(
            f"a learning needs exactly one change (given: {said}); one of "
            + ", ".join(CHANGE_FLAGS)
        )
    if follow_up is None and (owner is not None or due is not None):
        raise UsageError("--owner and --due go with --follow-up TEXT")
    if handle_error is not None:
        return parse_handle_error(handle_error)
    if set_ is not None:
        return parse_set(set_)
    if coverage is not None:
        return parse_coverage(coverage)
    if retire is not None:
        return build(lambda: Retire(seat=retire.strip()), "--retire", "jeff")
    if follow_up is not None:
        if owner is None or due is None:
            raise UsageError("--follow-up needs --owner SEAT (who makes the change) and --due DATE")
        when = parse_due(due)
        return build(
            lambda: FollowUp(text=follow_up.strip(), owner=owner.strip(), due=when),
            "--follow-up",
            "'raise the LeadMagic quota' --owner coo --due 2026-12-07",
        )
    assert no_change is not None
    return build(lambda: NoChange(reason=no_change.strip()), "--no-change", "'a one-off outage'")


# --- the edits --------------------------------------------------------------------------------
