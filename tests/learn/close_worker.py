"""A worker for the close crash test: ``python close_worker.py ORG DB``.

Forever: a stale event of dash-analysis (which reopens its incident), decided, then the
incident closed with a learning setting ``max_age`` to the next of 18h / 24h / 30h. Prints
``ready`` after the first close. The test kills it with SIGKILL wherever it happens to be.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.decisions import decide_pending
from orgplane.service.incidents import close_incident, incident_change, list_incidents
from orgplane.service.session import Session
from orgplane.store.types import utcnow

AGES = ("24h", "30h", "18h")


def main() -> None:
    org_file, db_url = sys.argv[1:3]
    with Session.open(Path(org_file), db_url) as session:
        for n, age in enumerate(itertools.cycle(AGES)):
            with session.store().write() as conn:
                record_event(
                    conn,
                    FailureEvent(
                        kind="stale",
                        occurred_at=utcnow(),
                        subject_kind="output",
                        subject_id="dash-analysis",
                        seat_id="dash",
                        message="dash-analysis is stale",
                    ),
                )
            decide_pending(session)
            for incident in list_incidents(session, open_only=True).incidents:
                close_incident(
                    session,
                    incident.id,
                    f"try {n}",
                    incident_change(set_=f"output:dash-analysis.max_age={age}"),
                )
            if n == 0:
                print("ready", flush=True)


if __name__ == "__main__":
    main()
