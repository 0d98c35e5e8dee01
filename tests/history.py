"""Generated stored history for seat-health tests: runs with their records and checkpoints,
and an output's publishes, written straight into the store's tables at chosen times (the
tables are the real ones; only the clock is chosen)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from sqlalchemy import insert

from orgplane.store.engine import Store
from orgplane.store.tables import publishes, run_checkpoints, run_records, runs

RecordOutcome = Literal["done", "skipped", "held", "corrected", "active"]


def add_run(
    store: Store,
    process_id: str,
    seat_id: str,
    batch: str,
    at: datetime,
    records: list[RecordOutcome],
    *,
    status: str = "finished",
    stages: tuple[str, ...] = ("fetch",),
) -> str:
    """A run of ``process_id`` created at ``at`` with one record per outcome: ``done``,
    ``skipped``, ``held`` (waits for a person), ``corrected`` (done by hand, ``orgplane
    checkpoint``), ``active`` (still to do). Returns the run id."""
    run_id = f"{process_id}:{batch}"
    with store.write() as conn:
        conn.execute(
            insert(runs).values(
                id=run_id,
                process_id=process_id,
                batch=batch,
                seat_id=seat_id,
                status=status,
                stages=list(stages),
                records_total=len(records),
                records_digest=hashlib.sha256(batch.encode()).hexdigest(),
                created_at=at,
                finished_at=at if status == "finished" else None,
                error={"code": "MailboxGone", "message": "the mailbox is gone"}
                if status == "failed"
                else None,
                stopped_record="r0" if status == "failed" else None,
                stopped_stage=stages[0] if status == "failed" else None,
            )
        )
        for seq, outcome in enumerate(records):
            state = "done" if outcome == "corrected" else outcome
            conn.execute(
                insert(run_records).values(
                    run_id=run_id, seq=seq, key=f"r{seq}", input={"id": seq}, state=state
                )
            )
            checkpoint = {
                "done": ("done", "worker-1"),
                "skipped": ("skipped", "worker-1"),
                "held": ("held", "worker-1"),
                "corrected": ("done", "checkpoint"),
                "active": None,
            }[outcome]
            if checkpoint is not None:
                conn.execute(
                    insert(run_checkpoints).values(
                        run_id=run_id,
                        seq=seq,
                        stage=stages[0],
                        status=checkpoint[0],
                        attempts=1,
                        worker=checkpoint[1],
                        updated_at=at,
                    )
                )
    return run_id


def add_publish(store: Store, output_id: str, content: bytes, at: datetime) -> None:
    """A publish of ``output_id`` at ``at`` with ``content``."""
    with store.write() as conn:
        conn.execute(
            insert(publishes).values(
                output_id=output_id,
                published_at=at,
                content=content,
                content_hash=hashlib.sha256(content).hexdigest(),
                size=len(content),
                repeats=0,
                data_at=at,
                status="fresh",
            )
        )
