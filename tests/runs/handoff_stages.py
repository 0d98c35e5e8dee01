"""Stages of the hand-off tests: fetch (pure), classify (pure: hands a record with
``"unusual": true`` to the seat in its ``to`` field, default ``lead``; a record with
``"boom": true`` raises an unhandled error on its first attempt), label (effectful: appends
``label KEY INPUT`` to ``labels.log`` in the org folder, so a test sees what it was given)."""

from __future__ import annotations

import json
import os
from typing import Any

from orgplane.runs import StageContext, handoff, stage


@stage("fetch")
def fetch(record: Any, ctx: StageContext) -> Any:
    return record


@stage("classify")
def classify(record: Any, ctx: StageContext) -> Any:
    if record.get("boom") and ctx.attempt == 1:
        raise RuntimeError(f"classifier crashed on email {record['id']}")
    if record.get("unusual"):
        handoff(to=record.get("to", "lead"), reason=f"email {record['id']} fits no bucket")
    return {"id": record["id"], "bucket": "routine"}


@stage("label")
def label(given: Any, ctx: StageContext) -> Any:
    line = f"label {ctx.record_key} {json.dumps(given, sort_keys=True)}\n"
    fd = os.open(ctx.org_dir / "labels.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return {"labelled": given}
