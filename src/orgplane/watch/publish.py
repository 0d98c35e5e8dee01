"""Publishing an output's content through orgplane instead of a file on disk.

Each publish is stored whole with a hash of its content with the timestamp taken out, and the
count of publishes in a row that carried that same content with an advancing data time: when
it reaches ``frozen_after`` the output is ``frozen`` (old data re-stamped as new). A retry (the
same content and time again) is not a repeat. Only the last few publishes of each output are
kept, and the last good one (:func:`orgplane.watch.prune.trim_publishes`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select

from orgplane.errors import UsageError
from orgplane.org.lookup import find_declared
from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import pings, publishes
from orgplane.watch.inspect import Finding, Prior, classify_output
from orgplane.watch.prune import trim_publishes
from orgplane.watch.readers import parse_content


def publish(store: Store, org: Org, output_id: str, content: bytes, now: datetime) -> Finding:
    """Store ``content`` as the latest state of ``output_id`` and classify it at once.

    Content that is corrupt or invalid is stored anyway (the watcher flags it, consumers see
    the flag); content over the size limit is refused with a UsageError.
    """
    output = find_declared(org.outputs, "output", output_id)
    if len(content) > output.max_bytes:
        raise UsageError(
            f"the content for {output_id} is {len(content) / 2**20:.1f} MB, over its "
            f"{output.max_bytes / 2**20:.1f} MB limit (max_bytes); publish a summary, not a dump"
        )
    reading = parse_content(content, output, f"the content published for {output_id}", now)
    digest = reading.content_hash or hashlib.sha256(content).hexdigest()
    with store.write() as conn:
        previous = conn.execute(
            select(
                publishes.c.content_hash,
                publishes.c.repeats,
                publishes.c.published_at,
                publishes.c.data_at,
            )
            .where(publishes.c.output_id == output_id)
            .order_by(publishes.c.id.desc())
            .limit(1)
        ).first()
        repeats = count_repeats(previous, digest, reading.data_at)
        reading.same_content = repeats
        prior = Prior("fresh", previous.published_at) if previous else None
        finding = classify_output(output, reading, now, prior)
        conn.execute(
            insert(publishes).values(
                output_id=output_id,
                published_at=now,
                content=content,
                content_hash=digest,
                size=len(content),
                repeats=repeats,
                data_at=reading.data_at,
                status=finding.status,
            )
        )
        trim_publishes(conn, output_id)
        conn.execute(
            insert(pings).values(
                subject_kind="output",
                subject_id=output_id,
                kind="publish",
                at=now,
                source="publish",
            )
        )
    return finding


def count_repeats(
    previous: Row[Any, Any, Any, Any] | None, digest: str, data_at: datetime | None
) -> int:
    """How many publishes in a row carry this content with an advancing data time.

    The same content again with the same data time is a retry of one update, not a repeat: it
    keeps the count. A repeat counts only when the data time moved forward."""
    if previous is None or previous.content_hash != digest:
        return 1
    moved = data_at is not None and previous.data_at is not None and data_at > previous.data_at
    return int(previous.repeats) + 1 if moved else int(previous.repeats)
