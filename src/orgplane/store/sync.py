"""Syncing the declared org into the store without losing runtime history.

A sync is one transaction: items new in the file are added, changed ones updated, and items gone
from the file are marked retired (seats) or removed (outputs, processes, metrics), never deleted,
so runs, events and incidents that point at them keep their meaning. Every change is appended
to ``org_changes`` under one ``org_syncs`` row, and the digest of the whole org is kept in
``synced_org``: :func:`ensure_synced` compares it in one read and writes nothing when the org is
the one already synced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, insert, select, text, update

from orgplane.store.engine import Store
from orgplane.store.tables import (
    metrics,
    org_changes,
    org_syncs,
    outputs,
    processes,
    seats,
    synced_org,
)
from orgplane.store.types import utcnow

if TYPE_CHECKING:  # a read of an unchanged org never builds the org's models
    from orgplane.org.models import Declared, Org

SYNC_LOCK = 0x6F7273796E63  # any fixed number: serialises syncs from several machines


@dataclass
class SyncReport:
    """What one sync changed, by entity kind (``seat``, ``output``, ...); ``sync_id`` is 0 when
    nothing changed (no sync row is written then)."""

    sync_id: int = 0
    added: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)

    def as_dict(self) -> dict[str, Any]:
        def names(items: list[tuple[str, str]]) -> list[str]:
            return [f"{kind}:{ident}" for kind, ident in items]

        return {
            "sync_id": self.sync_id,
            "added": names(self.added),
            "updated": names(self.updated),
            "removed": names(self.removed),
        }


_SLOT = "org"


def org_digest(org: Org) -> str:
    """A digest of everything a sync stores about ``org`` (its declaration and source path).

    pydantic's JSON dump is used as it is (declaration order): an org whose items were only
    reordered digests differently and costs one sync that finds nothing to change.
    """
    body = org.model_dump_json().encode()
    source = str(org.source).encode() if org.source else b""
    return hashlib.sha256(source + b"\0" + body).hexdigest()


def ensure_synced(
    store: Store,
    org: Org,
    *,
    cause: str | None = None,
    incident_id: int | None = None,
    actor: str | None = None,
) -> SyncReport | None:
    """Sync ``org`` only if it is not the org last synced: ``None`` after one read and no write
    when it is, else the report of the sync (which records the new digest)."""
    digest = org_digest(org)
    with store.read() as conn:
        stored = conn.execute(
            select(synced_org.c.digest).where(synced_org.c.slot == _SLOT)
        ).scalar_one_or_none()
    if stored == digest:
        return None
    return sync_org(store, org, digest=digest, cause=cause, incident_id=incident_id, actor=actor)


_FILE_SLOT = "file"


def ensure_synced_file(
    store: Store,
    path: Path,
    load: Callable[[], Org],
    *,
    cause: str | None = None,
    incident_id: int | None = None,
    actor: str | None = None,
) -> SyncReport | None:
    """:func:`ensure_synced` for the org in the file at ``path``, without even parsing the file
    when its bytes are the ones last synced: one read of the store and a hash of the file.

    ``load`` gives the org (and raises its OrgFileError) when the file is new or changed; the
    file's digest is then recorded, so the next call is a read again.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        load()  # the loader's one-line error for a file that cannot be read
        raise
    file_digest = _file_digest(path, raw)
    with store.read() as conn:
        rows = conn.execute(select(synced_org.c.slot, synced_org.c.digest)).all()
        stored = {str(slot): str(digest) for slot, digest in rows}
    if stored.get(_FILE_SLOT) == file_digest and _SLOT in stored:
        return None
    report = ensure_synced(store, load(), cause=cause, incident_id=incident_id, actor=actor)
    with store.write() as conn:
        _record_digest(conn, file_digest, utcnow(), slot=_FILE_SLOT)
    return report


def record_file_digest(conn: Connection, path: Path, raw: bytes) -> None:
    """Note that the bytes ``raw`` of the org file at ``path`` are synced (the caller just
    synced the org they hold, in this transaction): the next session reads, never re-parses."""
    _record_digest(conn, _file_digest(path, raw), utcnow(), slot=_FILE_SLOT)


def _file_digest(path: Path, raw: bytes) -> str:
    return hashlib.sha256(str(path.resolve()).encode() + b"\0" + raw).hexdigest()


def sync_org(
    store: Store,
    org: Org,
    *,
    digest: str | None = None,
    cause: str | None = None,
    incident_id: int | None = None,
    actor: str | None = None,
) -> SyncReport:
    """Make the store's view of the org match ``org``; history is kept, nothing is deleted.

    Always compares item by item (use :func:`ensure_synced` to skip an unchanged org) and
    records the org's digest in the same transaction. ``cause``, ``incident_id`` and ``actor``
    say why orgplane itself changed the org (a learning closing an incident): they go on the
    ``org_syncs`` row, NULL for an edit made by hand.
    """
    with store.write() as conn:
        return sync_into(
            conn, org, digest=digest, cause=cause, incident_id=incident_id, actor=actor
        )


def sync_into(
    conn: Connection,
    org: Org,
    *,
    digest: str | None = None,
    cause: str | None = None,
    incident_id: int | None = None,
    actor: str | None = None,
) -> SyncReport:
    """:func:`sync_org` inside the caller's write transaction, so a use case can sync the org
    and record what caused the change (an incident closed) in one commit."""
    now = utcnow()
    report = SyncReport()
    digest = digest or org_digest(org)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK})
    changes: list[dict[str, Any]] = []
    # Seats first: the other tables refer to them.
    _sync_table(
        conn,
        seats,
        "seat",
        {
            s.id: (
                s,
                {
                    "title": s.title,
                    "kind": s.kind,
                    "holder": s.holder,
                    "reports_to": s.reports_to,
                    "owner": s.owner,
                    "status": s.status,
                },
            )
            for s in org.seats.values()
        },
        "retired",
        now,
        report,
        changes,
    )
    _sync_table(
        conn,
        outputs,
        "output",
        {
            o.id: (o, {"producer": o.producer, "critical": o.critical, "status": "active"})
            for o in org.outputs.values()
        },
        "removed",
        now,
        report,
        changes,
    )
    _sync_table(
        conn,
        processes,
        "process",
        {p.id: (p, {"seat": p.seat, "status": "active"}) for p in org.processes.values()},
        "removed",
        now,
        report,
        changes,
    )
    _sync_table(
        conn,
        metrics,
        "metric",
        {m.id: (m, {"owner": m.owner, "status": "active"}) for m in org.metrics.values()},
        "removed",
        now,
        report,
        changes,
    )
    if changes:  # a sync that changed nothing leaves no trace
        report.sync_id = conn.execute(
            insert(org_syncs).values(
                at=now,
                source=str(org.source) if org.source else None,
                org_name=org.name,
                changes=len(changes),
                cause=cause,
                incident_id=incident_id,
                actor=actor,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(insert(org_changes), [{**c, "sync_id": report.sync_id} for c in changes])
    _record_digest(conn, digest, now)
    return report


def _record_digest(conn: Connection, digest: str, now: datetime, slot: str = _SLOT) -> None:
    """Keep ``digest`` in ``slot``: the org last synced ("org") or the bytes of its file ("file");
    the caller holds a write transaction."""
    stored = conn.execute(
        select(synced_org.c.digest).where(synced_org.c.slot == slot)
    ).scalar_one_or_none()
    if stored is None:
        conn.execute(insert(synced_org).values(slot=slot, digest=digest, synced_at=now))
    elif stored != digest:
        conn.execute(
            update(synced_org).where(synced_org.c.slot == slot).values(digest=digest, synced_at=now)
        )


def _sync_table(
    conn: Connection,
    table: Table,
    entity: str,
    declared: dict[str, tuple[Declared, dict[str, Any]]],
    gone_status: str,
    now: datetime,
    report: SyncReport,
    changes: list[dict[str, Any]],
) -> None:
    existing = {row.id: row for row in conn.execute(select(table))}
    for ident, (model, columns) in declared.items():
        body = model.model_dump(mode="json")
        digest = _digest(body)
        row = existing.get(ident)
        if row is None:
            conn.execute(
                insert(table).values(
                    id=ident,
                    declared=body,
                    digest=digest,
                    first_declared_at=now,
                    updated_at=now,
                    removed_at=now if columns["status"] == gone_status else None,
                    **columns,
                )
            )
            report.added.append((entity, ident))
            changes.append(
                {
                    "entity": entity,
                    "entity_id": ident,
                    "change": "added",
                    "before": None,
                    "after": body,
                }
            )
        elif row.digest != digest or row.status != columns["status"]:
            leaving = columns["status"] == gone_status and row.status != gone_status
            conn.execute(
                update(table)
                .where(table.c.id == ident)
                .values(
                    declared=body,
                    digest=digest,
                    updated_at=now,
                    removed_at=now
                    if leaving
                    else (row.removed_at if columns["status"] == gone_status else None),
                    **columns,
                )
            )
            report.updated.append((entity, ident))
            changes.append(
                {
                    "entity": entity,
                    "entity_id": ident,
                    "change": gone_status if leaving else "updated",
                    "before": row.declared,
                    "after": body,
                }
            )
    for ident, row in existing.items():
        if ident not in declared and row.status != gone_status:
            conn.execute(
                update(table)
                .where(table.c.id == ident)
                .values(status=gone_status, removed_at=now, updated_at=now)
            )
            report.removed.append((entity, ident))
            changes.append(
                {
                    "entity": entity,
                    "entity_id": ident,
                    "change": gone_status,
                    "before": row.declared,
                    "after": None,
                }
            )


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
