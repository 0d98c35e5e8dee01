"""The session a use case acts on: which org file, which store, both opened on first use.

A session replaces what each surface used to assemble for itself. It loads the org once, opens
the store once (migrating it to the current schema), and syncs the org into the store only when
the org differs from the last one synced, so a read command writes nothing.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the store costs SQLAlchemy; commands that never open it skip it
    from orgplane.errors import OrgplaneError
    from orgplane.org.models import Org
    from orgplane.store.engine import Store

DEFAULT_ORG = "org.yaml"


@dataclass
class Session:
    """The org file and the store of one use case, each loaded on first use and kept.

    ``db`` None means ``ORGPLANE_DB``, else SQLite beside the org file.
    """

    org_path: Path
    db: str | None = None
    _org: Org | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    explicit_org: bool = field(default=False, repr=False)
    _synced: bool = field(default=False, repr=False)
    _org_stamp: tuple[int, int] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, org: str | Path | None = None, db: str | None = None) -> Session:
        """A session on ``org`` (else ``ORGPLANE_ORG``, else ``./org.yaml``) and ``db``."""
        chosen = org or os.environ.get("ORGPLANE_ORG")
        return cls(org_path=Path(chosen or DEFAULT_ORG), db=db, explicit_org=bool(chosen))

    def org(self) -> Org:
        """The declared org, loaded on first use; OrgFileError if the file has problems."""
        if self._org is None:
            from orgplane.org.loader import load_org

            stamp = _stamp(self.org_path)
            self._org = load_org(self.org_path)
            self._org_stamp = stamp
        return self._org

    def refresh_org(self) -> OrgplaneError | None:
        """For a long-running use case: load the org file again if it changed on disk since it
        was loaded. A broken new version keeps the org loaded before, and its error is returned
        (each change is tried once); the store is synced with a good new version on next use."""
        from orgplane.errors import OrgplaneError
        from orgplane.org.loader import load_org

        if self._org is None:
            return None
        stamp = _stamp(self.org_path)
        if stamp == self._org_stamp:
            return None
        self._org_stamp = stamp
        try:
            self._org = load_org(self.org_path)
        except OrgplaneError as exc:
            return exc
        self._synced = False
        return None

    def forget_org(self) -> None:
        """Read the org file again on next use (after an edit such as a learning)."""
        self._org = None
        self._synced = False

    def store(self) -> Store:
        """The migrated store, with the current org synced into it if it changed."""
        if self._store is None:
            from orgplane.store.engine import open_store

            self._store = open_store(self.db, org_path=self.org_path)
            self._synced = False
        if not self._synced:
            from orgplane.store.sync import ensure_synced_file

            # An unchanged file costs a hash and one read: not even a parse of the org.
            ensure_synced_file(self._store, self.org_path, self.org)
            self._synced = True
        return self._store

    def org_arg(self) -> Path | None:
        """The org file as a command line should name it: None when it is the default."""
        return self.org_path if self.explicit_org or self.org_path != Path(DEFAULT_ORG) else None

    def command(self, *args: str) -> str:
        """The orgplane command line that acts on this session's org, for messages to a person."""
        words = ["orgplane"]
        if self.org_arg() is not None:
            words += ["--org", shlex.quote(str(self.org_path))]
        return " ".join([*words, *(shlex.quote(a) for a in args)])

    def close(self) -> None:
        """Release the store's connections; the session may be used again afterwards."""
        if self._store is not None:
            self._store.dispose()
            self._store = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _stamp(path: Path) -> tuple[int, int] | None:
    """What says a file changed, without reading it: its modification time and size."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)
