"""Durable staged processes: stages as plain functions, runs that checkpoint every (record,
stage), resume after any crash, and never redo or duplicate finished work.

See docs/runs.md. The public API::

    from orgplane.runs import stage, load_process

    @stage("validate")
    def validate(prospect, ctx): ...

    process = load_process(org, "nick-prospecting", store)
    status = process.run(records, batch="2026-06-21")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgplane.runs.handoffs import HandOff, handoff
    from orgplane.runs.integrity import check
    from orgplane.runs.manual import record_checkpoint
    from orgplane.runs.process import Process, load_process, run_id_for
    from orgplane.runs.records import read_batch
    from orgplane.runs.registry import StageContext, stage
    from orgplane.runs.status import RunStatus, StageCounts, list_runs, run_status

# Imported on first use: a command that only reads a run's status loads only status.py.
_HOMES = {
    "check": "integrity",
    "HandOff": "handoffs",
    "handoff": "handoffs",
    "record_checkpoint": "manual",
    "Process": "process",
    "load_process": "process",
    "run_id_for": "process",
    "read_batch": "records",
    "StageContext": "registry",
    "stage": "registry",
    "RunStatus": "status",
    "StageCounts": "status",
    "list_runs": "status",
    "run_status": "status",
}

__all__ = [
    "HandOff",
    "Process",
    "RunStatus",
    "StageContext",
    "StageCounts",
    "check",
    "handoff",
    "list_runs",
    "load_process",
    "read_batch",
    "record_checkpoint",
    "run_id_for",
    "run_status",
    "stage",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'orgplane.runs' has no attribute {name!r}")
    value = getattr(import_module(f"orgplane.runs.{home}"), name)
    globals()[name] = value
    return value
