"""Nick's prospecting stages: validate the address (pure), then create the Gmail draft (effectful).

Both outside services are simulated here so the example runs anywhere:

* LeadMagic validation answers from the address itself. ``simulate/leadmagic-faults.json`` in the
  org folder can make it fail for chosen records, e.g. ``{"17": {"code": "LM-503", "times": 2}}``
  (the demo uses this for the founder's mid-batch failure); every call is appended to
  ``simulate/leadmagic-calls.log``.
* Gmail drafts go to ``simulate/gmail-drafts.jsonl``, one line per draft, keyed by the
  idempotency key orgplane passes in; ``draft_exists`` (the reconcile function) looks a key up
  there, as the real one would search Gmail for a draft carrying the key in a header.
* ``simulate/leadmagic-latency`` (a number of seconds) makes every validation take that long, as
  a slow API would: long enough to stop a worker mid-batch on purpose.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from orgplane.runs import StageContext, stage


class LeadMagicError(Exception):
    """An error answer from LeadMagic; ``code`` is what org.yaml's handled errors match."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _folder(ctx: StageContext) -> Path:
    folder = ctx.org_dir / "simulate"
    folder.mkdir(exist_ok=True)
    return folder


def _append(path: Path, line: str) -> None:
    # O_APPEND: concurrent workers never interleave or overwrite each other's lines.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _injected_fault(ctx: StageContext) -> str | None:
    faults_file = _folder(ctx) / "leadmagic-faults.json"
    if not faults_file.exists():
        return None
    faults = json.loads(faults_file.read_text())
    fault = faults.get(ctx.record_key)
    if not fault or fault.get("times", 1) <= 0:
        return None
    fault["times"] = fault.get("times", 1) - 1
    faults_file.write_text(json.dumps(faults))
    return str(fault["code"])


@stage("validate")
def validate(prospect: dict[str, Any], ctx: StageContext) -> dict[str, Any]:
    """Ask (simulated) LeadMagic whether the prospect's address is deliverable."""
    _append(_folder(ctx) / "leadmagic-calls.log", f"{ctx.record_key} attempt {ctx.attempt}")
    latency = _folder(ctx) / "leadmagic-latency"
    if latency.exists():
        time.sleep(float(latency.read_text().strip() or 0))
    code = _injected_fault(ctx)
    if code:
        raise LeadMagicError(code, f"LeadMagic answered {code} for {prospect['email']}")
    email = str(prospect["email"]).strip().lower()
    if "@" not in email:
        raise LeadMagicError("LM-422", f"{email!r} is not an address")
    return {**prospect, "email": email, "deliverable": True, "score": 80 + len(email) % 20}


def draft_exists(validated: dict[str, Any], ctx: StageContext) -> dict[str, Any] | None:
    """Reconcile: the draft carrying this idempotency key, if the crash came after creating it."""
    ledger = _folder(ctx) / "gmail-drafts.jsonl"
    if not ledger.exists():
        return None
    for line in ledger.read_text().splitlines():
        if line.strip():
            draft = json.loads(line)
            if draft["idempotency_key"] == ctx.idempotency_key:
                return {"draft_id": draft["draft_id"], "to": draft["to"]}
    return None


@stage("draft", reconcile=draft_exists)
def draft(validated: dict[str, Any], ctx: StageContext) -> dict[str, Any]:
    """Create the outreach draft in (simulated) Gmail, tagged with the idempotency key."""
    draft_id = f"draft-{ctx.idempotency_key[:12]}"
    body = (
        f"Hi {validated['name'].split()[0]}, I saw what {validated['company']} is doing with "
        "paid search and had an idea worth ten minutes of your time."
    )
    entry = {
        "draft_id": draft_id,
        "idempotency_key": ctx.idempotency_key,
        "to": validated["email"],
        "subject": f"An idea for {validated['company']}",
        "body": body,
    }
    _append(_folder(ctx) / "gmail-drafts.jsonl", json.dumps(entry))
    return {"draft_id": draft_id, "to": validated["email"]}
