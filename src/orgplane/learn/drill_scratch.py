"""The scratch world a drill runs in: a copy of the org's folder and a SQLite store of its own.

A drill injects failures (old files, broken timestamps, killed workers) and lets the real
detection and decision code record events, decisions and runs. None of that may reach the live
store (the audit and the scorecard would count it) nor the live files, so everything happens in
a temporary copy that is deleted afterwards; only the score is kept in the live store.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orgplane.files import write_atomically
from orgplane.org.loader import load_org
from orgplane.org.models import Org, Output
from orgplane.respond.decisions import decide_pending, get_decision
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import ensure_synced_file
from orgplane.store.tables import decision_events, events
from orgplane.store.types import utcnow
from orgplane.watch.check import CheckReport, check_once
from orgplane.watch.metrics import push_metric
from orgplane.watch.sample import sample_content

LEFT_BEHIND = (
    "*.db",
    "*.db-wal",
    "*.db-shm",
    "*.sqlite",
    "*.sqlite3",
    ".git",
    ".venv",
    "__pycache__",
    "node_modules",
)
"""What is not copied: the live store's files (a drill must never open them) and tool folders."""


class Scratch:
    """A copy of the org's folder in a temporary directory, with its own migrated store.

    ``org`` is loaded from the copy, so every relative path resolves inside it; ``folder`` is
    where the drill keeps its own files (stand-in stages' control, batches)."""

    def __init__(self, live_org_path: Path, template: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="orgplane-drill-"))
        live = live_org_path.resolve()
        self.live_path = live
        try:
            shutil.copytree(
                live.parent, self.root / "org", ignore=shutil.ignore_patterns(*LEFT_BEHIND)
            )
            self.path = self.root / "org" / live.name
            self.org: Org = load_org(self.path)
            self.folder = self.root / "drill"
            self.folder.mkdir()
            database = self.root / "drill.db"
            if template is not None:  # an empty migrated store: a copy costs no migration
                for suffix in ("", "-wal"):
                    source = Path(f"{template}{suffix}")
                    if source.exists():
                        shutil.copyfile(source, Path(f"{database}{suffix}"))
            self.store: Store = open_store(f"sqlite:///{database}")
            ensure_synced_file(self.store, self.path, lambda: self.org)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def close(self) -> None:
        """Release the store and delete the whole copy."""
        self.store.dispose()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def template(folder: Path) -> Path:
        """An empty store migrated to the current schema in ``folder``, for scratch copies to
        start from (migrating a new SQLite file costs about a second, copying it nothing)."""
        database = folder / "template.db"
        open_store(f"sqlite:///{database}").dispose()
        return database

    def live_rule(self, rule: str | None) -> str | None:
        """A rule's ``file:line`` as the live org file's (the copy has the same lines)."""
        if rule is None:
            return None
        return rule.replace(str(self.org.source or self.path), str(self.live_path))

    def file_of(self, output: Output) -> Path | None:
        """The file of a file output inside the copy; None for a published output, a glob or a
        location outside the org's folder (a drill writes only inside its copy)."""
        if not output.location or glob.has_magic(output.location):
            return None
        if output.location.startswith("/"):
            return None
        path = (self.path.parent / output.location).resolve()
        if not path.is_relative_to(self.root.resolve()):
            return None
        return path

    def write_output(self, output: Output, at: datetime, stamp: str | None = None) -> Path:
        """Write good content of a file output whose data time is ``at`` (the file's mtime too),
        or with ``stamp`` written as its timestamp instead."""
        path = self.file_of(output)
        assert path is not None
        write_atomically(path, sample_content(output, at, stamp))
        os.utime(path, (at.timestamp(), at.timestamp()))
        return path

    def baseline(self, now: datetime) -> CheckReport:
        """The steady state: good content now for every file output in the copy, a value of
        every metric, one check pass and its events decided (so a drill's step sees only the
        events it caused)."""
        for output in self.org.outputs.values():
            if self.file_of(output) is not None:
                self.write_output(output, now)
        for metric in self.org.metrics.values():
            push_metric(self.store, self.org, metric.id, metric.target or 0.0, now, now)
        report = check_once(self.store, self.org, now)
        self.decide()
        return report

    def check(self, now: datetime | None = None) -> CheckReport:
        """One real check pass at ``now``, its transitions recorded as failure events."""
        return check_once(self.store, self.org, now or utcnow())

    def decide(self) -> int:
        """Decide every pending event with the real decision engine and file each into its
        incident, as every decider does (service.decisions.file_incidents); how many were
        decided."""
        from orgplane.learn.filing import file_decided

        total = 0
        while True:
            with self.store.write() as conn:
                outcomes = decide_pending(conn, self.org)
                file_decided(conn, [o.event_id for o in outcomes])
            if not outcomes:
                return total
            total += len(outcomes)

    def event(self, event_id: int) -> dict[str, Any]:
        """The stored failure event ``event_id``."""
        with self.store.read() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).one()
        return dict(row._mapping)

    def events_of(self, kind: str, **match: str) -> list[dict[str, Any]]:
        """Stored events of ``kind`` whose columns equal ``match``, oldest first."""
        query = select(events).where(events.c.kind == kind)
        for column, value in match.items():
            query = query.where(events.c[column] == value)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(events.c.id))]

    def decision_of(self, event_id: int) -> dict[str, Any] | None:
        """The decision the engine made for ``event_id`` (None when it was not decided)."""
        with self.store.read() as conn:
            found = conn.execute(
                select(decision_events.c.decision_id).where(decision_events.c.event_id == event_id)
            ).scalar()
            return get_decision(conn, int(found)) if found is not None else None
