"""The close gate: an incident closes only with a learning, and a learning is text plus exactly
one change.

This module is the only code that sets an incident ``closed``. A change is one of:

- ``handle_error`` CODE=ACTION: added to the handled errors of the incident's process (its
  run's process, or the process it is about);
- ``set`` SECTION:ITEM.KEY=VALUE: one known key of an output, metric or process;
- ``coverage`` SEAT:OUTPUT=PROTOCOL: what a consumer does when that input fails;
- ``retire`` SEAT: only once a decided hearing retired the seat in org.yaml;
- ``follow_up`` TEXT with an owner seat and a due time: a row in ``follow_ups``, nagged when
  due (:mod:`orgplane.learn.follow_ups`);
- ``no_change`` REASON.

Org changes are round-trip edits of org.yaml (comments and layout kept), validated as a whole
before the file is replaced atomically (:func:`orgplane.org.edit.edit_org_file`). The file is
edited first and the store closed in one transaction afterwards: a refused edit changes
nothing, and the store never says closed about a change the file does not hold.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml.comments import CommentedMap
from sqlalchemy import Connection, select, update

from orgplane.errors import UsageError
from orgplane.learn.follow_ups import add_follow_up
from orgplane.learn.incidents import get_incident, record_step
from orgplane.org.models import ID_PATTERN, HandledError, Metric, Org, Output, Process, Protocol
from orgplane.store.engine import Store
from orgplane.store.tables import incidents, runs
from orgplane.store.types import utcnow

__all__ = [
    "CHANGE_FLAGS",
    "SETTABLE",
    "Change",
    "Closed",
    "Coverage",
    "FollowUp",
    "HandleError",
    "NoChange",
    "Retire",
    "SetKey",
    "change_from_options",
    "close_incident",
    "describe",
    "parse_coverage",
    "parse_due",
    "parse_handle_error",
    "parse_set",
    "process_of",
    "record_resumed",
]

_T = TypeVar("_T")

Action = Literal["retry", "skip_record", "fail_run", "escalate"]
ACTIONS: tuple[str, ...] = ("retry", "skip_record", "fail_run", "escalate")
PROTOCOLS: tuple[str, ...] = ("skip_and_flag", "use_last_good", "block", "escalate")


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HandleError(_Change):
    """Add ``code`` to the incident's process's handled errors, mapped to ``action``."""

    kind: Literal["handle_error"] = "handle_error"
    code: str = Field(min_length=1, max_length=200)
    action: Action
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

_SECTIONS = {"output": "outputs", "metric": "metrics", "process": "processes"}


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


def _model(build: Callable[[], _T], flag: str, example: str) -> _T:
    try:
        return build()
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
    return _model(
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
    return _model(
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
    return _model(
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
        return _model(lambda: Retire(seat=retire.strip()), "--retire", "jeff")
    if follow_up is not None:
        if owner is None or due is None:
            raise UsageError("--follow-up needs --owner SEAT (who makes the change) and --due DATE")
        when = parse_due(due)
        return _model(
            lambda: FollowUp(text=follow_up.strip(), owner=owner.strip(), due=when),
            "--follow-up",
            "'raise the LeadMagic quota' --owner coo --due 2026-12-07",
        )
    assert no_change is not None
    return _model(lambda: NoChange(reason=no_change.strip()), "--no-change", "'a one-off outage'")


# --- the edits --------------------------------------------------------------------------------


def process_of(conn: Connection, incident: dict[str, Any]) -> str | None:
    """The process an incident is about: its run's process, or the process it names."""
    if incident["subject_kind"] == "process":
        return str(incident["subject_id"])
    run_id = incident["run_id"] or (
        incident["subject_id"] if incident["subject_kind"] == "run" else None
    )
    if run_id is None:
        return None
    found = conn.execute(select(runs.c.process_id).where(runs.c.id == run_id)).scalar()
    return str(found) if found is not None else None


def _handle_error_edit(
    path: Path, change: HandleError, process_id: str | None, incident_id: int, learning: str
) -> Callable[[CommentedMap], None]:
    from orgplane.org.edit import handled_error_mutation

    if process_id is None:
        raise UsageError(
            f"incident {incident_id} is not about a process or a run: --handle-error adds to "
            "a process's handled errors; choose another change"
        )
    handled = _model(
        lambda: HandledError(
            match=change.code,
            action=change.action,
            message=learning,
            escalate_to=change.escalate_to,
        ),
        "--handle-error",
        "LM-503=escalate:coo",
    )
    return handled_error_mutation(path, process_id, handled)


def _set_edit(path: Path, change: SetKey) -> Callable[[CommentedMap], None]:
    section = _SECTIONS[change.section]

    def mutate(document: CommentedMap) -> None:
        items = document.get(section) or {}
        if change.item not in items:
            raise UsageError(
                f"{path}: no {change.section} {change.item!r}; declared: "
                f"{', '.join(sorted(str(k) for k in items)) or 'none'}"
            )
        if change.value is None:
            items[change.item].pop(change.key, None)  # back to its default
        else:
            items[change.item][change.key] = change.value

    return mutate


def _coverage_edit(path: Path, change: Coverage) -> Callable[[CommentedMap], None]:
    def mutate(document: CommentedMap) -> None:
        seats = document.get("seats") or {}
        if change.seat not in seats:
            raise UsageError(f"{path}: no seat {change.seat!r} to give an input protocol")
        if change.output not in (document.get("outputs") or {}):
            raise UsageError(f"{path}: no output {change.output!r}; a seat reads a declared one")
        seat = seats[change.seat]
        inputs = seat.get("inputs")
        if inputs is None:
            inputs = CommentedMap()
            seat["inputs"] = inputs
        current = inputs.get(change.output)
        if isinstance(current, dict) or change.escalate_to:
            entry = current if isinstance(current, dict) else CommentedMap()
            entry["protocol"] = change.protocol
            if change.escalate_to:
                entry["escalate_to"] = change.escalate_to
            else:
                entry.pop("escalate_to", None)
            inputs[change.output] = entry
        else:
            inputs[change.output] = change.protocol  # the short form the file uses

    return mutate


def _retire_check(org: Org, change: Retire) -> None:
    seat = org.seats.get(change.seat)
    if seat is None:
        raise UsageError(f"--retire {change.seat}: no such seat in the org file")
    if seat.status != "retired" or seat.retired is None:
        raise UsageError(
            f"--retire {change.seat}: a seat is retired through a hearing, not by closing an "
            f"incident; run 'orgplane hearing open {change.seat}' then 'orgplane hearing "
            f"decide {change.seat} --retire --give CAPABILITY=SEAT ...', and close this "
            "incident with --retire once the verdict is in org.yaml"
        )


def _follow_up_check(org: Org, change: FollowUp) -> None:
    seat = org.seats.get(change.owner)
    if seat is None or seat.status != "active":
        raise UsageError(
            f"--owner {change.owner}: not an active seat; the follow-up needs an owner on "
            f"the chart ({', '.join(s.id for s in org.active_seats())})"
        )


# --- closing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    """What closing did: the incident row as now stored, the unified diff of org.yaml ('' when
    the file did not change), the org sync that recorded it (0: none), the follow-up made."""

    incident: dict[str, Any]
    diff: str
    sync_id: int
    follow_up_id: int | None
    org: Org | None
    """The org as written, when the file changed."""


def _diff(before: str, after: str, path: Path) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path.name}",
        tofile=f"b/{path.name}",
    )
    return "".join(lines)


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"{what} is empty: write what was learned")
    if "\x00" in value:
        raise UsageError(f"{what} contains a NUL character; remove it")
    return value


def close_incident(
    store: Store,
    org_path: Path,
    org: Org,
    incident_id: int,
    learning: str,
    change: HandleError | SetKey | Coverage | Retire | FollowUp | NoChange | None,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> Closed:
    """Close open incident ``incident_id`` with ``learning`` and its one ``change``.

    The org file is edited first (validated as a whole, written atomically; a refused edit
    raises and changes nothing), then in one transaction the new org is synced (its
    ``org_syncs`` row naming the incident, the learning and ``actor``), a follow-up stored, and
    the incident closed with a ``closed`` step. UsageError without a change, for an empty
    learning, or when the incident is not open; OrgFileError for an edit the org refuses.
    """
    if change is None:
        raise UsageError(
            f"incident {incident_id} cannot close without a change; one of "
            + ", ".join(CHANGE_FLAGS)
        )
    learning = _text(learning, "--learning")
    for text in (getattr(change, "text", ""), getattr(change, "reason", "")):
        _text(text or "-", "the change")
    with store.read() as conn:
        incident = get_incident(conn, incident_id)
        process_id = process_of(conn, incident)
    if incident["status"] != "open":
        raise UsageError(
            f"incident {incident_id} is already closed ({incident['learning']}); "
            "a recurrence of its failure reopens it"
        )
    edit: Callable[[CommentedMap], None] | None = None
    if isinstance(change, HandleError):
        edit = _handle_error_edit(org_path, change, process_id, incident_id, learning)
    elif isinstance(change, SetKey):
        edit = _set_edit(org_path, change)
    elif isinstance(change, Coverage):
        edit = _coverage_edit(org_path, change)
    elif isinstance(change, Retire):
        _retire_check(org, change)
    elif isinstance(change, FollowUp):
        _follow_up_check(org, change)

    diff, new_org, raw = "", None, None
    if edit is not None:
        from orgplane.org.edit import edit_org_file

        texts: list[bytes] = []
        # The bytes this edit started from and wrote, not a re-read: another edit may follow.
        new_org = edit_org_file(org_path, edit, texts=texts)
        started, raw = texts
        diff = _diff(started.decode("utf-8"), raw.decode("utf-8"), org_path)

    at = now or utcnow()
    summary = f"incident {incident_id}: {learning}"
    with store.write() as conn:
        sync_id = 0
        if new_org is not None and raw is not None:
            from orgplane.store.sync import record_file_digest, sync_into

            report = sync_into(conn, new_org, cause=summary, incident_id=incident_id, actor=actor)
            record_file_digest(conn, org_path, raw)
            sync_id = report.sync_id
        follow_up_id = None
        if isinstance(change, FollowUp):
            follow_up_id = add_follow_up(
                conn, incident_id, change.text, change.owner, change.due, actor=actor, now=at
            )
        stored = {
            **change.model_dump(mode="json"),
            "summary": describe(change),
            "diff": diff or None,
            "sync_id": sync_id or None,
            "follow_up_id": follow_up_id,
        }
        closed = conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id)
            .where(incidents.c.status == "open")
            .values(
                status="closed",
                open_signature=None,
                closed_at=at,
                closed_by=actor,
                learning=learning,
                change=stored,
                updated_at=at,
            )
        )
        if closed.rowcount != 1:
            # Closed by someone else since the read; a file edit made stays and is synced
            # as a hand edit by the next command (the file is the org's truth).
            raise UsageError(f"incident {incident_id} was closed meanwhile; see incident show")
        record_step(
            conn,
            incident_id,
            "closed",
            actor=actor,
            at=at,
            detail={
                "learning": learning,
                "change": describe(change),
                "reopened": incident["reopened"],
            },
        )
        row = get_incident(conn, incident_id)
    return Closed(row, diff, sync_id, follow_up_id, new_org)


def record_resumed(
    conn: Connection,
    incident_id: int,
    outcome: dict[str, Any],
    *,
    actor: str | None = None,
) -> None:
    """Record on a closed incident what resuming its held run did (``outcome``: the run, its
    state, whether the failed record went through): a ``resumed`` step and ``change.resumed``."""
    row = get_incident(conn, incident_id)
    change = dict(row["change"] or {})
    change["resumed"] = outcome
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(change=change))
    record_step(conn, incident_id, "resumed", actor=actor, detail=outcome)
