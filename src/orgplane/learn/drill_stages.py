"""Stand-in stages for a drill: every stage a process declares, doing no outside work.

A drill never runs a process's own stage module (it would send the real drafts, call the real
APIs); it runs these under the process's declared stages instead, through the real runner, so
checkpoints, leases, handled errors and events behave as in production. ``control.json`` in the
drill folder steers them: ``delay`` seconds per call (long enough to kill a worker mid-batch) and
``fault`` (a record and stage that raise an error no handled error names). Effectful stages
append their idempotency key to ``effects.jsonl`` and reconcile from it, so a drill can check
that no effect happened twice.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from orgplane.files import write_atomically
from orgplane.org.models import Org
from orgplane.runs.registry import StageContext, stage

CONTROL = "control.json"
EFFECTS = "effects.jsonl"
UNPLANNED_CODE = "DRILL-UNPLANNED"


class DrillUnplannedError(Exception):
    """The error of the unknown-error drill: its class and code match no handled error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_control(folder: Path) -> dict[str, Any]:
    """The drill's instructions to its stages (empty when there are none)."""
    try:
        data = json.loads((folder / CONTROL).read_text())
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def write_control(folder: Path, control: dict[str, Any]) -> None:
    """Replace the instructions atomically (a worker never reads half of them)."""
    write_atomically(folder / CONTROL, json.dumps(control).encode())


def effects(folder: Path) -> list[str]:
    """The idempotency keys of every effect the stand-in effectful stages performed."""
    path = folder / EFFECTS
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line.strip()]


def drill_module(org: Org, process_id: str, folder: Path) -> ModuleType:
    """A module holding a stand-in ``@stage`` for each stage of ``process_id``, steered by
    ``folder``'s control file."""
    module = ModuleType(f"orgplane_drill_stages_{process_id.replace('-', '_')}")
    for index, declared in enumerate(org.processes[process_id].stages):
        effectful = declared.kind == "effectful"
        function = _stage_function(folder, effectful)
        registered = stage(declared.name, reconcile=_reconcile(folder) if effectful else None)(
            function
        )
        setattr(module, f"stage_{index}", registered)
    return module


def _stage_function(folder: Path, effectful: bool) -> Any:
    def run(value: Any, ctx: StageContext) -> Any:
        control = read_control(folder)
        delay = float(control.get("delay") or 0)
        if delay > 0:
            time.sleep(delay)
        fault = control.get("fault")
        if (
            isinstance(fault, dict)
            and fault.get("record") == ctx.record_key
            and fault.get("stage") == ctx.stage
            and not fault.get("raised_at")
        ):
            fault["raised_at"] = time.time()
            write_control(folder, control)
            code = str(fault.get("code") or UNPLANNED_CODE)
            raise DrillUnplannedError(code, f"drill: an error nobody planned for ({code})")
        if effectful:
            _append(folder / EFFECTS, ctx.idempotency_key)
        return {"record": ctx.record_key, "stage": ctx.stage}

    return run


def _reconcile(folder: Path) -> Any:
    def reconcile(value: Any, ctx: StageContext) -> Any:
        if ctx.idempotency_key in effects(folder):
            return {"record": ctx.record_key, "stage": ctx.stage, "reconciled": True}
        return None

    return reconcile


def _append(path: Path, line: str) -> None:
    # O_APPEND: one write per line, never interleaved with another worker's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
