"""Publishing an output's content through orgplane instead of a file on disk.

Each publish is stored whole with a hash of its content with the timestamp taken out, and the
count of publishes in a row that carried that same content: when it reaches ``frozen_after``
while the timestamp keeps moving, the output is ``frozen`` (old data re-stamped as new).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import insert, select

from orgplane.errors import UsageError
from orgplane.org.lookup import find_declared
from orgplane.org.models import Org
from orgplane.store.engine import Store
from orgplane.store.tables import pings, publishes
from orgplane.watch.inspect import Finding, Prior, classify_output
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
            select(publishes.c.content_hash, publishes.c.repeats, publishes.c.published_at)
            .where(publishes.c.output_id == output_id)
            .order_by(publishes.c.id.desc())
            .limit(1)
        ).first()
        repeats = previous.repeats + 1 if previous and previous.content_hash == digest else 1
        conn.execute(
            insert(publishes).values(
                output_id=output_id,
                published_at=now,
                content=content,
                content_hash=digest,
                size=len(content),
                repeats=repeats,
            )
        )
        conn.execute(
            insert(pings).values(
                subject_kind="output",
                subject_id=output_id,
                kind="publish",
                at=now,
                source="publish",
            )
        )
    reading.same_content = repeats
    prior = Prior("fresh", previous.published_at) if previous else None
    return classify_output(output, reading, now, prior)
