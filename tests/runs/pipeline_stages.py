"""Stages of the test pipeline: validate (pure), draft (effectful, with reconcile), send
(effectful, no reconcile).

Every call appends a line to ``ledger.log`` in the org folder with O_APPEND: the side-effect
ledger the tests count, kept outside the store. A record can ask for trouble in its own fields:
``{"fail": {"draft": "FLAKY:2"}}`` raises an error coded FLAKY on the first two attempts of draft;
``{"crash": "send-after"}`` raises KeyboardInterrupt (a crash: nothing after it is recorded) once,
right after send's effect.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from orgplane.runs import StageContext, stage


class CodedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"error {code}")
        self.code = code


def ledger(ctx: StageContext) -> Path:
    return ctx.org_dir / "ledger.log"


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _trouble(record: Any, ctx: StageContext) -> None:
    if not isinstance(record, dict):
        return
    wanted = record.get("fail", {}).get(ctx.stage)
    if wanted:
        code, _, times = str(wanted).partition(":")
        if not times or ctx.attempt <= int(times):
            if code == "Timeout":
                raise TimeoutError("the service did not answer")
            raise CodedError(code)


def _crash(record: Any, ctx: StageContext, moment: str) -> None:
    flag = ctx.org_dir / f"crashed-{ctx.record_key}-{ctx.stage}"
    if (
        isinstance(record, dict)
        and record.get("crash") == f"{ctx.stage}-{moment}"
        and not flag.exists()
    ):
        flag.touch()
        raise KeyboardInterrupt(f"simulated crash {moment} {ctx.stage}")


def _effect(ctx: StageContext) -> None:
    # A delay on both sides of the effect, so a kill can land before or after it happened.
    delay = float(os.environ.get("PIPELINE_EFFECT_DELAY", "0")) / 2
    if delay:
        time.sleep(delay)
    _append(ledger(ctx), f"{ctx.stage} {ctx.record_key} {ctx.idempotency_key}")
    if delay:
        time.sleep(delay)


@stage("validate")
def validate(record: Any, ctx: StageContext) -> Any:
    _append(ledger(ctx), f"validate {ctx.record_key} {ctx.idempotency_key}")
    _trouble(record, ctx)
    if isinstance(record, dict) and record.get("bad_output"):
        return {"not json": {1, 2}}
    return {"record": record, "valid": True}


def draft_exists(validated: Any, ctx: StageContext) -> Any:
    if not ledger(ctx).exists():
        return None
    for line in ledger(ctx).read_text().splitlines():
        stage_name, _, key = line.split()
        if stage_name == "draft" and key == ctx.idempotency_key:
            return {"draft": key[:8], "reconciled": True}
    return None


@stage("draft", reconcile=draft_exists)
def draft(validated: Any, ctx: StageContext) -> Any:
    assert validated["valid"] is True  # the stored output of validate feeds this stage
    record = ctx.record
    _crash(record, ctx, "before")
    _trouble(record, ctx)
    _effect(ctx)
    _crash(record, ctx, "after")
    return {"draft": ctx.idempotency_key[:8]}


@stage("send")
def send(drafted: Any, ctx: StageContext) -> Any:
    record = ctx.record
    _crash(record, ctx, "before")
    _trouble(record, ctx)
    _effect(ctx)
    _crash(record, ctx, "after")
    return {"sent": drafted["draft"]}
