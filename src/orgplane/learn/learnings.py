"""The close gate: an incident closes only with a learning, and a learning is text plus exactly
one change.

This module is the only code that sets an incident ``closed``. A change
(:mod:`orgplane.learn.changes`) is one of:

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
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from sqlalchemy import Connection, select, update

from orgplane.errors import UsageError
from orgplane.learn.changes import (
    CHANGE_FLAGS,
    SECTIONS,
    Coverage,
    FollowUp,
    HandleError,
    NoChange,
    Retire,
    SetKey,
    build,
    describe,
)
from orgplane.learn.follow_ups import add_follow_up
from orgplane.learn.incidents import get_incident, record_step
from orgplane.org.models import HandledError, Org
from orgplane.store.engine import Store
from orgplane.store.tables import incidents, runs
from orgplane.store.types import utcnow

__all__ = ["Closed", "close_incident", "process_of", "record_resumed"]


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
    handled = build(
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
    section = SECTIONS[change.section]

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
