"""Stages as plain functions: the ``@stage`` decorator and loading the module a process names.

A stage is registered by name on the function itself (not in a global table), so two processes
may both have a stage called ``validate`` and loading a module twice (``run resume`` re-imports
it) never mixes old and new code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from orgplane.errors import UsageError
from orgplane.org.models import Org

STAGE_ATTRIBUTE = "__orgplane_stage__"


def idempotency_key(run_id: str, record_key: str, stage: str) -> str:
    """The stable key of one (run, record, stage): the same on every attempt and every worker."""
    return hashlib.sha256(f"{run_id}\x00{record_key}\x00{stage}".encode()).hexdigest()[:32]


class StageContext:
    """What a stage is told besides its input (read it; changing it changes nothing stored):
    ``run_id``, ``record_key``, ``stage``, ``idempotency_key``, ``attempt``, ``record``,
    ``outputs`` and ``org_dir``.

    ``idempotency_key`` is the same every time this (run, record, stage) is attempted, on any
    worker: pass it to the outside system (or keep it beside the effect) so a repeat is harmless.
    It is computed when first read (most pure stages never read it).
    """

    __slots__ = ("_key", "attempt", "org_dir", "outputs", "record", "record_key", "run_id", "stage")

    def __init__(
        self,
        run_id: str,
        record_key: str,
        stage: str,
        idempotency_key: str | None,
        attempt: int,
        record: Any,
        outputs: dict[str, Any],
        org_dir: Path,
    ) -> None:
        self.run_id = run_id
        self.record_key = record_key
        self.stage = stage
        self._key = idempotency_key
        self.attempt = attempt
        self.record = record
        self.outputs = outputs
        self.org_dir = org_dir

    @property
    def idempotency_key(self) -> str:
        if self._key is None:
            self._key = idempotency_key(self.run_id, self.record_key, self.stage)
        return self._key

    def __repr__(self) -> str:
        return (
            f"StageContext(run_id={self.run_id!r}, record_key={self.record_key!r}, "
            f"stage={self.stage!r}, attempt={self.attempt})"
        )


StageFunction = Callable[[Any, StageContext], Any]
ReconcileFunction = Callable[[Any, StageContext], Any]


@dataclass(frozen=True)
class StageSpec:
    """A registered stage: its name, its function and, for effectful stages, its reconcile."""

    name: str
    function: StageFunction
    reconcile: ReconcileFunction | None = None


def stage(
    name: str, *, reconcile: ReconcileFunction | None = None
) -> Callable[[StageFunction], StageFunction]:
    """Register ``function(input, ctx)`` as the stage ``name`` of whatever process loads it.

    ``input`` is the record for the first stage and the previous stage's stored output after
    that. ``reconcile(input, ctx)`` is asked, after a crash left the stage in doubt, whether the
    effect happened: return its output (anything but ``None``/``False``) if it did, ``None`` or
    ``False`` if it did not (the stage then runs again with the same idempotency key).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(
            "@stage needs the stage's name as declared in org.yaml, e.g. @stage('draft')"
        )

    def register(function: StageFunction) -> StageFunction:
        setattr(function, STAGE_ATTRIBUTE, StageSpec(name, function, reconcile))
        return function

    return register


def stage_digest(function: StageFunction) -> str:
    """Where a stage function lives, for messages: ``module.function``."""
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"


def stages_in(namespace: Iterable[Any]) -> dict[str, StageSpec]:
    """Every stage registered on the given objects, by name; two with one name is a mistake."""
    found: dict[str, StageSpec] = {}
    for item in namespace:
        spec = getattr(item, STAGE_ATTRIBUTE, None)
        if not isinstance(spec, StageSpec):
            continue
        if spec.name in found and found[spec.name].function is not spec.function:
            raise UsageError(
                f"two functions register stage {spec.name!r}: "
                f"{stage_digest(found[spec.name].function)} and {stage_digest(spec.function)}"
            )
        found[spec.name] = spec
    return found


@dataclass
class LoadedModule:
    """A stage module as imported for one process."""

    module: ModuleType
    where: str
    stages: dict[str, StageSpec] = field(default_factory=dict)


def import_stage_module(org: Org, process_id: str, module: str | ModuleType | None) -> LoadedModule:
    """Import (again, every call) the module holding a process's stages.

    ``module`` defaults to the process's ``module:`` in org.yaml: a path ending in ``.py``
    (relative to the org file) or a dotted module name.
    """
    process = org.processes[process_id]
    if isinstance(module, ModuleType):
        return LoadedModule(module, module.__name__, stages_in(vars(module).values()))
    target = module or process.module
    place = f"{org.source or 'org.yaml'}: process {process_id!r}"
    if not target:
        raise UsageError(
            f"{place} has no 'module:'; add 'module: stages/<file>.py' or record its checkpoints "
            "with 'orgplane checkpoint'"
        )
    if target.endswith(".py") or "/" in target:
        path = (org.base_dir / target).resolve()
        if not path.is_file():
            raise UsageError(f"{place}: module {target!r} not found at {path}; fix 'module:'")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        name = f"orgplane_stages_{process_id.replace('-', '_')}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"{place}: cannot import {path} as Python")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded  # dataclasses and pickling look modules up by name
        _execute(lambda: spec.loader.exec_module(loaded), place, str(path))  # type: ignore[union-attr]
        where = str(path)
    else:
        sys.modules.pop(target, None)
        loaded = _execute(lambda: importlib.import_module(target), place, target)
        where = target
    return LoadedModule(loaded, where, stages_in(vars(loaded).values()))


def _execute(action: Callable[[], Any], place: str, where: str) -> Any:
    try:
        return action()
    except ModuleNotFoundError as exc:
        raise UsageError(f"{place}: cannot import {where!r}: {exc}; fix 'module:'") from exc
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise UsageError(
            f"{frame.filename}:{frame.lineno}: importing the stages of {place} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
