"""orgplane: the operating platform for organisations whose staff is people and AI agents.

The Python API a newcomer needs lives here::

    from orgplane import load_org, open_store, sync_org

    org = load_org("org.yaml")
    store = open_store(org_path=org.source)  # ORGPLANE_DB, or SQLite beside the org file
    report = sync_org(store, org)            # the declared org, recorded in the store
    print(org.name, len(org.seats), "seats")
    store.dispose()

Every command of the CLI is one function of :mod:`orgplane.service`, over a
``orgplane.Session`` (the org and the store of one use case); see the README's Python API.

Each name is imported on first use, so ``import orgplane.org.loader`` (or a command that never
opens the store) does not pay for SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgplane.errors import OrgFileError, OrgplaneError, Problem, StoreError, UsageError
    from orgplane.org.loader import load_org
    from orgplane.org.models import Org
    from orgplane.service.session import Session
    from orgplane.store.engine import Store, open_store
    from orgplane.store.sync import sync_org

_HOMES = {
    "Org": "orgplane.org.models",
    "OrgFileError": "orgplane.errors",
    "OrgplaneError": "orgplane.errors",
    "Problem": "orgplane.errors",
    "Session": "orgplane.service.session",
    "Store": "orgplane.store.engine",
    "StoreError": "orgplane.errors",
    "UsageError": "orgplane.errors",
    "load_org": "orgplane.org.loader",
    "open_store": "orgplane.store.engine",
    "sync_org": "orgplane.store.sync",
}

__all__ = [
    "Org",
    "OrgFileError",
    "OrgplaneError",
    "Problem",
    "Session",
    "Store",
    "StoreError",
    "UsageError",
    "load_org",
    "open_store",
    "sync_org",
]


def __getattr__(name: str) -> Any:
    """``orgplane.load_org`` and the rest, imported from their modules when first asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'orgplane' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
