"""The last good content of an output, kept so the gate can hand it out with ``use_last_good``.

A published output has it in ``publishes`` (the latest publish classified ``fresh``, which
trimming keeps). A file is overwritten by its producer, so orgplane keeps a copy of the content
it last saw fresh in ``last_good_files`` (bounded by the output's ``max_bytes``: nothing larger
is ever read), for the outputs some seat reads with ``use_last_good`` only: nobody else is
handed old content, so nobody else pays for its storage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import last_good_files, publishes
from orgplane.store.upsert import dialect_insert
from orgplane.watch.inspect import Finding
from orgplane.watch.readers import Reading


@dataclass(frozen=True, slots=True)
class LastGood:
    """Content an output had when it was last fresh, and when that was."""

    content: bytes
    data_at: datetime | None
    kept_at: datetime
    source: str


def kept_outputs(org: Org) -> frozenset[str]:
    """The file outputs an active seat reads with ``use_last_good``: those whose fresh content
    orgplane keeps a copy of."""
    return frozenset(
        output_id
        for seat in org.active_seats()
        for output_id, declared in seat.inputs.items()
        if declared.protocol == "use_last_good"
        and output_id in org.outputs
        and org.outputs[output_id].location
    )


def keep_fresh(conn: Connection, output_id: str, reading: Reading, now: datetime) -> bool:
    """Keep ``reading``'s bytes as the last good content of ``output_id``; only a content that
    differs from the one kept is written. The caller has classified it ``fresh``. True when a
    row was written."""
    if reading.raw is None:
        return False
    digest = hashlib.sha256(reading.raw).hexdigest()
    values = {
        "output_id": output_id,
        "content": reading.raw,
        "content_hash": digest,
        "size": len(reading.raw),
        "data_at": reading.data_at,
        "kept_at": now,
        "source": reading.source,
    }
    table = last_good_files
    statement = dialect_insert(conn, table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.output_id],
        set_={k: statement.excluded[k] for k in values if k != "output_id"},
        # The same content seen fresh again: its first sighting stands, nothing is rewritten.
        where=table.c.content_hash != statement.excluded.content_hash,
    )
    return bool(conn.execute(statement).rowcount)


def keep_fresh_files(
    store: Store, org: Org, findings: list[Finding], readings: dict[str, Reading], now: datetime
) -> int:
    """After a check pass: keep the fresh content of every output in :func:`kept_outputs`
    whose content changed. ``readings`` holds what the pass read, by output id. One read, and
    a write only when something changed; returns how many copies were written."""
    wanted = kept_outputs(org)
    fresh = {
        f.subject_id: f.content_hash
        for f in findings
        if f.subject_kind == "output" and f.status == "fresh" and f.subject_id in wanted
    }
    if not fresh:
        return 0
    with store.read() as conn:
        kept = dict(
            conn.execute(
                select(last_good_files.c.output_id, last_good_files.c.content_hash).where(
                    last_good_files.c.output_id.in_(sorted(fresh))
                )
            ).all()
        )
    changed = [
        (ident, reading)
        for ident in sorted(fresh)
        if (reading := readings.get(ident)) is not None
        and reading.raw is not None
        and kept.get(ident) != hashlib.sha256(reading.raw).hexdigest()
    ]
    if not changed:
        return 0
    with store.write() as conn:
        return sum(keep_fresh(conn, ident, reading, now) for ident, reading in changed)


def load_last_good(conn: Connection, output_ids: list[str]) -> dict[str, LastGood]:
    """The last good content of each of ``output_ids`` that has one: the newer of the copy kept
    of its file and its latest publish classified ``fresh``."""
    found: dict[str, LastGood] = {}
    if not output_ids:
        return found
    table = last_good_files.c
    for row in conn.execute(
        select(table.output_id, table.content, table.data_at, table.kept_at, table.source).where(
            table.output_id.in_(sorted(output_ids))
        )
    ):
        found[row.output_id] = LastGood(row.content, row.data_at, row.kept_at, row.source)
    pub = publishes.c
    for output_id in sorted(output_ids):  # a seek each on the output's index: publishes are few
        latest = conn.execute(
            select(pub.content, pub.data_at, pub.published_at)
            .where(pub.output_id == output_id, pub.status == "fresh")
            .order_by(pub.id.desc())
            .limit(1)
        ).first()
        if latest is None:
            continue
        kept = found.get(output_id)
        if kept is None or latest.published_at > kept.kept_at:
            found[output_id] = LastGood(
                latest.content,
                latest.data_at,
                latest.published_at,
                f"the content published for {output_id}",
            )
    return found
