"""Fix before restart: a run stopped by an *unhandled* error is held until the error is classified.

A run that failed on an error nobody declared would, resumed as it is, meet the same error again
(or worse, get past it by luck, and nobody learns anything). So :func:`orgplane.runs.process.reopen`
refuses such a run until either the error is classified (the process's ``handled_errors`` in
org.yaml now match it: the learning was written down) or the resume is forced with a reason,
which is kept in ``forced_resumes`` and as a ``forced`` step on the run's open incident.

Only an unhandled *error* holds a run. A run whose worker died (a crash) is still ``running``
with its leases expired, and a run that failed on a declared error (``fail_run``, or a ``retry``
whose retries ran out) was stopped as org.yaml says: both resume as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert

from orgplane.errors import UsageError
from orgplane.learn.incidents import record_step
from orgplane.org.models import Process
from orgplane.runs.policy import match_handled
from orgplane.runs.statements import RunState
from orgplane.store.tables import forced_resumes
from orgplane.store.types import utcnow


@dataclass(frozen=True)
class Force:
    """A resume forced past the hold: ``reason`` (kept on the incident and the run), by ``actor``
    (a seat id; None = the local operator)."""

    reason: str
    actor: str | None = None


def error_names(error: dict[str, Any]) -> set[str]:
    """The names a stored run error answers to: its code, its type and (for an exception the
    runner caught) the names of its base classes, as the handled-error ``match`` reads them."""
    names = {str(n) for n in error.get("names") or ()}
    names.update(str(error[k]) for k in ("code", "type") if error.get(k))
    return names


def unclassified(status: str, error: dict[str, Any] | None, process: Process) -> bool:
    """True when a run in ``status`` with the stored ``error`` is held: it failed on an error
    that was unhandled when it happened and that ``process`` (as declared *now*) still does not
    handle. A crash, a declared failure, or an error classified since is not held."""
    if status != RunState.FAILED or not error or error.get("handled"):
        return False
    return match_handled(process, error_names(error)) is None


def refusal(
    run_id: str,
    error: dict[str, Any],
    process: Process,
    stopped_at: tuple[str | None, str | None],
    incident_id: int | None,
) -> UsageError:
    """The error a held run's resume raises: which error, where, and the two ways out."""
    code = error.get("code") or error.get("type") or "the error"
    record, stage = stopped_at
    classify = f"add '- match: {code}' with an action to the handled_errors of {process.id}"
    if incident_id is not None:
        classify += f" ('orgplane incident close {incident_id} --handle-error {code}=ACTION')"
    message = error.get("message") or code
    return UsageError(
        f"run {run_id} stopped on the unhandled error {code} at record {record}, stage {stage} "
        f"({message}) and is held until the error is classified: {classify} in org.yaml, or "
        f"resume it anyway with 'orgplane run resume {run_id} --reason TEXT'"
    )


def record_force(
    conn: Connection,
    run_id: str,
    error: dict[str, Any],
    stopped_at: tuple[str | None, str | None],
    force: Force,
    incident: dict[str, Any] | None,
) -> None:
    """Keep a forced resume, in the caller's transaction: a ``forced_resumes`` row and, when the
    run has an open incident, a ``forced`` step on its timeline with the reason."""
    now = utcnow()
    incident_id = int(incident["id"]) if incident else None
    conn.execute(
        insert(forced_resumes).values(
            run_id=run_id,
            at=now,
            actor=force.actor,
            reason=force.reason,
            record_key=stopped_at[0],
            stage=stopped_at[1],
            error={k: error.get(k) for k in ("type", "code", "message", "summary")},
            incident_id=incident_id,
        )
    )
    if incident_id is not None:
        detail = {
            "reason": force.reason,
            "run_id": run_id,
            "code": error.get("code") or error.get("type"),
            "record": stopped_at[0],
            "stage": stopped_at[1],
        }
        record_step(conn, incident_id, "forced", actor=force.actor, at=now, detail=detail)
