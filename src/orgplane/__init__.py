"""orgplane: the operating platform for organisations whose staff is people and AI agents.

The Python API a newcomer needs lives here::

    from orgplane import load_org, open_store

    org = load_org("org.yaml")
    store = open_store(org)          # SQLite beside the org file unless a URL is given
    store.sync(org)
"""

from orgplane.errors import OrgFileError, OrgplaneError, Problem, StoreError, UsageError
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.store.engine import Store, open_store

__all__ = [
    "Org",
    "OrgFileError",
    "OrgplaneError",
    "Problem",
    "Store",
    "StoreError",
    "UsageError",
    "load_org",
    "open_store",
]
