"""The worker of the crash-mid-batch drill, a real process the drill kills with SIGKILL:
``python -m orgplane.learn.drill_worker ORG DB PROCESS FOLDER BATCH_FILE RUN_BATCH LEASE``.

It runs the stand-in stages (:mod:`orgplane.learn.drill_stages`) of ``PROCESS`` over the batch
through the real runner, against the drill's scratch store, until it is killed or done.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path


def main(argv: list[str]) -> None:
    """Work the drill's batch to the end (or until killed)."""
    from orgplane.learn.drill_stages import drill_module
    from orgplane.org.loader import load_org
    from orgplane.runs.process import load_process
    from orgplane.store.engine import open_store

    org_file, db_url, process_id, folder, batch_file, batch, lease = argv[:7]
    org = load_org(Path(org_file))
    store = open_store(db_url)
    try:
        module = drill_module(org, process_id, Path(folder))
        process = load_process(
            org, process_id, store, module=module, lease=timedelta(seconds=float(lease)), chunk=2
        )
        records = json.loads(Path(batch_file).read_text())
        status = process.run(records, batch=batch)
        print(status.state, flush=True)
    finally:
        store.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
