"""The last good content of an output, kept so the gate can hand it out with ``use_last_good``.

A published output has it in ``publishes`` (the latest publish classified ``fresh``, which
trimming keeps). A file is overwritten by its producer, so orgplane keeps a copy of the content
it last saw fresh in ``last_good_files`` (bounded by the output's ``max_bytes``: nothing larger
is ever read), for the outputs some seat reads with ``use_last_good`` only: nobody else is
handed old content, so nobody else pays for its storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import last_good_files, publishes
from orgplane.store.upsert import dialect_insert
from orgplane.watch.inspect import Finding, Prior
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
    store: Store,
    org: Org,
    findings: list[Finding],
    readings: dict[str, Reading],
    now: datetime,
    priors: Mapping[tuple[str, str], Prior] | None = None,
) -> int:
    """After a check pass: keep the fresh content of every output in :func:`kept_outputs`
    that has no copy yet or whose content changed since the pass ``priors`` come from (its
    hash or its data time moved). ``readings`` holds what the pass read, by output id. One
    read of the kept ids, a write only when something changed; returns how many copies were
    written."""
    wanted = kept_outputs(org)
    priors = priors or {}
    fresh = [
        f
        for f in findings
        if f.subject_kind == "output" and f.status == "fresh" and f.subject_id in wanted
    ]
    if not fresh:
        return 0
    with store.read() as conn:
        # Only the ids: the table holds kept outputs alone, so no IN list of thousands of ids.
        kept = set(conn.execute(select(last_good_files.c.output_id)).scalars())
    changed = [
        (f.subject_id, reading)
        for f in fresh
        if (reading := readings.get(f.subject_id)) is not None
        and (f.subject_id not in kept or _moved(priors.get(("output", f.subject_id)), f))
    ]
    if not changed:
        return 0
    with store.write() as conn:
        return sum(keep_fresh(conn, ident, reading, now) for ident, reading in changed)


def _moved(prior: Prior | None, finding: Finding) -> bool:
    # Unchanged since the last pass, which saw it fresh too: that pass kept it already.
    return (
        prior is None
        or prior.status != "fresh"
        or prior.content_hash != finding.content_hash
        or prior.data_at != finding.data_at
    )


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
