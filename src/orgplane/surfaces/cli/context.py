"""What every command shares: where the org file and the store are, opened lazily."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import sync_org

DEFAULT_ORG = "org.yaml"


@dataclass
class CliContext:
    """Global options, with the org and store loaded on first use and kept for the command."""

    org_path: Path
    db: str | None = None
    debug: bool = False
    _org: Org | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def from_options(cls, org: Path | None, db: str | None, debug: bool) -> CliContext:
        path = org or Path(os.environ.get("ORGPLANE_ORG") or DEFAULT_ORG)
        return cls(org_path=path, db=db, debug=debug)

    def org(self) -> Org:
        if self._org is None:
            self._org = load_org(self.org_path)
        return self._org

    def forget_org(self) -> None:
        """Read the org file again on next use (after an edit such as a learning)."""
        self._org = None

    def store(self) -> Store:
        """The migrated store, with the current org file synced into it."""
        if self._store is None:
            self._store = open_store(self.db, org_path=self.org_path)
            sync_org(self._store, self.org())
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None
