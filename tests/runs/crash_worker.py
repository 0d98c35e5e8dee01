"""A worker process for the crash tests: ``python crash_worker.py ORG DB BATCH WORKER_ID LEASE``.

Works run ``pipe:crash`` until it is finished, stopped or held, then exits 0. The tests kill it
with SIGKILL wherever it happens to be.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from orgplane.org.loader import load_org
from orgplane.runs import load_process
from orgplane.store.engine import open_store


def main() -> None:
    org_file, db_url, batch_file, worker_id, lease = sys.argv[1:6]
    org = load_org(Path(org_file))
    store = open_store(db_url)
    process = load_process(org, "pipe", store, lease=timedelta(seconds=float(lease)), chunk=25)
    records = json.loads(Path(batch_file).read_text())
    status = process.run(records, batch="crash", worker=worker_id)
    print(status.state, flush=True)
    store.dispose()


if __name__ == "__main__":
    main()
