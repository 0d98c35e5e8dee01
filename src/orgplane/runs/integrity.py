"""An integrity check of a run as stored: the invariants the runner promises, verified from rows.

Used by the crash tests after every kill, and by anyone who doubts a store.
"""

from __future__ import annotations

from sqlalchemy import select, text

from orgplane.errors import NotFoundError
from orgplane.store.engine import Store
from orgplane.store.tables import run_checkpoints, run_records, runs

SETTLED = ("done", "skipped", "held", "handed_off")


def check(store: Store, run_id: str) -> list[str]:
    """Every broken invariant of ``run_id`` (empty when the run is sound).

    Checked: every done checkpoint has an output; no stage has started, finished or failed
    before every earlier stage of its record was done; a done record has every stage done;
    settled records hold no lease; on SQLite, ``PRAGMA integrity_check``.
    """
    problems: list[str] = []
    with store.read() as conn:
        if store.dialect == "sqlite":
            verdict = [str(r[0]) for r in conn.execute(text("PRAGMA integrity_check"))]
            if verdict != ["ok"]:
                problems.append(f"sqlite integrity_check: {'; '.join(verdict)}")
        run = conn.execute(select(runs.c.stages).where(runs.c.id == run_id)).first()
        if run is None:
            raise NotFoundError(f"no run {run_id!r}; list them with 'orgplane run list'")
        names = [s["name"] for s in run.stages]
        records = conn.execute(
            select(
                run_records.c.seq, run_records.c.key, run_records.c.state, run_records.c.lease_owner
            ).where(run_records.c.run_id == run_id)
        ).all()
        rows = conn.execute(
            select(
                run_checkpoints.c.seq,
                run_checkpoints.c.stage,
                run_checkpoints.c.status,
                run_checkpoints.c.output.is_(None).label("no_output"),
            ).where(run_checkpoints.c.run_id == run_id)
        ).all()
    by_record: dict[int, dict[str, str]] = {}
    for seq, stage, status, no_output in rows:
        if stage not in names:
            problems.append(f"record #{seq}: checkpoint of unknown stage {stage!r}")
            continue
        if status == "done" and no_output:
            problems.append(f"record #{seq}: stage {stage} is done without an output")
        by_record.setdefault(seq, {})[stage] = status
    for seq, key, state, lease_owner in records:
        stages = by_record.get(seq, {})
        for index, name in enumerate(names):
            status = stages.get(name, "pending")
            if status in ("pending", "skipped", "handed_off"):
                continue
            early = [n for n in names[:index] if stages.get(n) != "done"]
            if early:
                problems.append(f"record {key}: stage {name} is {status} before {early[0]} is done")
        if state == "done" and any(stages.get(n) != "done" for n in names):
            problems.append(f"record {key}: settled as done but not every stage is done")
        if state == "skipped" and "skipped" not in stages.values():
            problems.append(f"record {key}: settled as skipped without a skipped stage")
        if state in SETTLED and lease_owner is not None:
            problems.append(f"record {key}: settled as {state} but still leased to {lease_owner}")
    return problems
