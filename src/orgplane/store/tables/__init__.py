"""Every table orgplane stores, on one MetaData, one module per concern.

The Alembic migrations in ``store/migrations`` must produce exactly this schema; a test compares
them on SQLite and PostgreSQL.
"""

from orgplane.store.tables.base import metadata
from orgplane.store.tables.decisions import decision_events, decisions
from orgplane.store.tables.drills import drills
from orgplane.store.tables.events import events
from orgplane.store.tables.forced import forced_resumes
from orgplane.store.tables.gate import gate_answers, last_good_files
from orgplane.store.tables.handoffs import handoffs, manual_checkpoints
from orgplane.store.tables.hearings import hearings
from orgplane.store.tables.incidents import (
    follow_ups,
    incident_filing,
    incident_steps,
    incidents,
)
from orgplane.store.tables.notifications import notification_attempts, notifications
from orgplane.store.tables.org import (
    metrics,
    org_changes,
    org_syncs,
    outputs,
    processes,
    seats,
    synced_org,
)
from orgplane.store.tables.resumes import resume_attempts
from orgplane.store.tables.runs import *  # noqa: F403  (the runs concern adds its tables here)
from orgplane.store.tables.tokens import api_tokens
from orgplane.store.tables.watch import *  # noqa: F403  (the watch concern adds its tables here)

__all__ = [
    "api_tokens",
    "decision_events",
    "decisions",
    "drills",
    "events",
    "follow_ups",
    "forced_resumes",
    "gate_answers",
    "handoffs",
    "hearings",
    "incident_filing",
    "incident_steps",
    "incidents",
    "last_good_files",
    "manual_checkpoints",
    "metadata",
    "metrics",
    "notification_attempts",
    "notifications",
    "org_changes",
    "org_syncs",
    "outputs",
    "processes",
    "resume_attempts",
    "seats",
    "synced_org",
]
