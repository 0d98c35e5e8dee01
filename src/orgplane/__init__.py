"""orgplane: the operating platform for organisations whose staff is people and AI agents.

The Python API a newcomer needs lives here::

    from orgplane import Session
    from orgplane.service import runs, watch

    with Session.open("org.yaml") as session:   # SQLite beside the org file unless db= is given
        print(watch.check(session).ok)
        print(runs.list_runs(session).runs)

and, one level down, the core: ``load_org(path)`` and ``open_store(url)``.
Names are imported on first use, so ``import orgplane`` (and ``orgplane --help``) stays cheap.
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

_WHERE = {
    "OrgFileError": "orgplane.errors",
    "OrgplaneError": "orgplane.errors",
    "Problem": "orgplane.errors",
    "StoreError": "orgplane.errors",
    "UsageError": "orgplane.errors",
    "load_org": "orgplane.org.loader",
    "Org": "orgplane.org.models",
    "Session": "orgplane.service.session",
    "Store": "orgplane.store.engine",
    "open_store": "orgplane.store.engine",
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
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'orgplane' has no attribute {name!r}")
