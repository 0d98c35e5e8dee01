"""A SQLite store's files on disk: the main file and the write-ahead log beside it.

SQLite keeps recent commits in ``orgplane.db-wal`` (indexed by ``orgplane.db-shm``) and replays
them into whatever main file it opens next to them; nothing in the log says which file it
belongs to. When the main file is deleted while a connection still has it open, closing that
connection leaves the log behind, and a backup restored under the same name would inherit it:
replaying another file's pages damages the restored one. :class:`LeftoverLogGuard` watches a
store across reopenings (the watcher holds no file open between passes) and moves such an
orphaned log aside, never replaying it; :func:`verify_integrity` refuses a damaged store before
anything writes to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from orgplane.errors import StoreCorrupt, StoreUnreachable
from orgplane.store.engine import Store
from orgplane.store.types import utcnow

LOG_SUFFIXES = ("-wal", "-shm")
Identity = tuple[int, int]  # (device, inode): the same file, whatever its name


@dataclass
class Reopening:
    """What :meth:`LeftoverLogGuard.before_open` found."""

    moved: list[Path] = field(default_factory=list)
    """Orphaned log files moved aside (never replayed)."""
    fresh: bool = False
    """The main file is one this guard has not opened before: check it before writing."""


class LeftoverLogGuard:
    """Keeps the SQLite store at ``path`` from inheriting a -wal/-shm that is not its own.

    A log is an orphan if it stayed beside the main file's name while the main file was gone
    (whatever file comes back, even one that reuses the inode number), or if the main file was
    replaced by another inode and the log is the one seen beside the old file. A log already
    there the first time (a crashed process's recovery data) is left alone, and so is the log
    of a main file that was moved away and back together with it. The file's header is not
    compared: other processes legitimately change it between passes while their log is live.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._main: Identity | None = None
        self._logs: dict[str, Identity] = {}
        self._orphans: set[Identity] = set()

    def before_open(self) -> Reopening:
        """Call before each (re)opening. Moves orphans aside; raises StoreUnreachable when a
        store this guard has seen is gone (opening would start an empty one in its place)."""
        main = _identity(self.path)
        logs = self._present_logs()
        if main is None:
            if self._main is None:
                return Reopening(fresh=True)  # a new store, created as the user asked
            self._orphans.update(logs.values())
            raise StoreUnreachable(
                f"database file {self.path} is gone (moved or deleted); waiting for it to come "
                "back rather than starting an empty one",
                url=f"sqlite:///{self.path}",
            )
        first = self._main is None
        replaced = not first and main != self._main
        orphaned = any(
            ident in self._orphans or (replaced and ident == self._logs.get(suffix))
            for suffix, ident in logs.items()
        )
        moved = self._move_aside(logs) if orphaned else []
        self._main = main
        self._orphans.clear()  # handled: moved aside, or no longer beside the file
        if first or replaced or moved:
            self._logs = self._present_logs()
        return Reopening(moved=moved, fresh=first or replaced or bool(moved))

    def after_close(self) -> None:
        """Call once no connection is open: remember the files, and any log left orphaned."""
        main = _identity(self.path)
        logs = self._present_logs()
        if main is None:
            self._orphans.update(logs.values())
            return
        self._main = main
        self._logs = logs

    def _present_logs(self) -> dict[str, Identity]:
        found = {s: _identity(Path(f"{self.path}{s}")) for s in LOG_SUFFIXES}
        return {s: ident for s, ident in found.items() if ident is not None}

    def _move_aside(self, logs: dict[str, Identity]) -> list[Path]:
        # Both files go: the -shm indexes the -wal, and neither belongs to this main file.
        stamp = utcnow().strftime("%Y%m%dT%H%M%S.%fZ")
        moved = []
        for suffix in logs:
            source = Path(f"{self.path}{suffix}")
            target = source.with_name(f"{source.name}.orphaned-{stamp}")
            os.replace(source, target)
            moved.append(target)
        return moved


def verify_integrity(store: Store) -> None:
    """Raise StoreCorrupt unless SQLite's ``quick_check`` finds the store sound (a read; for
    PostgreSQL, which checks its own pages, nothing is done)."""
    if store.dialect != "sqlite":
        return
    with store.read() as conn:
        problems = [row[0] for row in conn.execute(text("PRAGMA quick_check"))]
    if problems != ["ok"]:
        first = " ".join(str(problems[0]).split()) if problems else "no answer"
        raise StoreCorrupt(
            f"SQLite database {store.url}: the database is damaged ({first[:200]}); stop writing "
            "and restore it from a backup",
            url=store.url,
        )


def _identity(path: Path) -> Identity | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino)
