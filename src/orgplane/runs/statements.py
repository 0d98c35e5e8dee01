"""Every statement the runner sends through the driver (sqlite3 or psycopg), in one module.

The runner's hot path skips SQLAlchemy (see :mod:`orgplane.runs.rawdb`), so its SQL is text;
the column lists in that text are built here from the ``store/tables`` definitions at import,
so a renamed or added column cannot leave a statement behind silently. Statements use ``?``
placeholders (``RawDb.sql`` converts them for psycopg). The states a checkpoint row and a
record can be in are the enums below; the SQL literals are written from them.

"No output" and "no error" are SQL NULL on every path (never the JSON text ``null``): the raw
path binds ``None``, and SQLAlchemy writes go through :func:`json_or_null`. A stage that
returned ``None`` is done with the JSON output ``null``: that is an output, not its absence.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import null

from orgplane.store.tables import run_checkpoints, run_records, runs


class Checkpoint(StrEnum):
    """The state of one (record, stage) row in ``run_checkpoints``."""

    PENDING = "pending"  # released to run again (or never written: no row)
    STARTED = "started"  # an effectful stage's intent: committed before its effect
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    IN_DOUBT = "in_doubt"  # started, never finished, and nobody could tell whether it happened
    HELD = "held"  # escalated: waits for a person
    HANDED_OFF = "handed_off"  # given to a person by design (a hand-off): settled, not a failure


class RecordState(StrEnum):
    """A record's part in its run (``run_records.state``)."""

    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    HELD = "held"
    HANDED_OFF = "handed_off"  # settled: a person has it (runs/handoffs.py); the run goes on


class RunState(StrEnum):
    """A run's status (``runs.status``); see :class:`orgplane.runs.status.RunStatus`."""

    RUNNING = "running"
    FAILED = "failed"
    PAUSED = "paused"  # a transient error outlasted its retries: resume continues at its record
    HELD = "held"
    STOPPED = "stopped"
    FINISHED = "finished"


def json_or_null(value: Any) -> Any:
    """A value for a JSON column written through SQLAlchemy: ``None`` becomes SQL NULL (as the
    raw path writes it), not SQLAlchemy's default JSON ``null``."""
    return null() if value is None else value


def _marks(count: int) -> str:
    return ", ".join("?" * count)


#: run_checkpoints' columns in table order: the order of every full checkpoint row.
CHECKPOINT_COLUMNS = tuple(column.name for column in run_checkpoints.columns)
_KEY = ("run_id", "seq", "stage")
#: Where a full row (UPSERT's) keeps each value.
COLUMN = {name: index for index, name in enumerate(CHECKPOINT_COLUMNS)}
# What an upsert changes on conflict: everything but the key and the stored idempotency key;
# an intent's start time is kept when a later write brings none.
_ON_CONFLICT = ", ".join(
    f"{name} = COALESCE(excluded.{name}, run_checkpoints.{name})"
    if name == "started_at"
    else f"{name} = excluded.{name}"
    for name in CHECKPOINT_COLUMNS
    if name not in (*_KEY, "idempotency_key")
)


@cache
def upsert(rows: int = 1) -> str:
    """Full checkpoint rows (every column, in table order), ``rows`` of them in one statement:
    one statement is one atomic transaction on its own, which is how the hot path commits an
    intent with the previous record's result. Rows for one (record, stage) apply in order on
    SQLite; PostgreSQL refuses two in one statement, so it is given one row per statement."""
    values = ", ".join(f"({_marks(len(CHECKPOINT_COLUMNS))})" for _ in range(rows))
    return (
        f"INSERT INTO run_checkpoints ({', '.join(CHECKPOINT_COLUMNS)}) VALUES {values} "
        f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {_ON_CONFLICT}"
    )


UPSERT = upsert(1)
# The hot path's row: a stage done by the runner. Fewer bound parameters than UPSERT (a bound
# NULL costs about as much as a value): no error, and the intent's started_at and idempotency key
# are kept. A pure stage's done row has no idempotency key stored (it is derived from the run, the
# record key and the stage whenever it is needed); every other row has it.
DONE_COLUMNS = (
    "run_id",
    "seq",
    "stage",
    "output",
    "attempts",
    "worker",
    "reconciled",
    "updated_at",
)
DONE = (
    f"INSERT INTO run_checkpoints ({', '.join(DONE_COLUMNS[:3])}, status, "
    f"{', '.join(DONE_COLUMNS[3:])}) VALUES (?, ?, ?, '{Checkpoint.DONE}', "
    f"{_marks(len(DONE_COLUMNS) - 3)}) ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
    f"status = '{Checkpoint.DONE}', error = NULL, "
    + ", ".join(f"{name} = excluded.{name}" for name in DONE_COLUMNS if name not in _KEY)
)

# An effectful step's commit on SQLite (numbered parameters: SQLite only), one statement: the intent of (?2, ?3) and, in the
# second form, the result of the previous step (?9, ?10). Numbered parameters bind the run, the
# worker and the time once; ``error`` is left out, so both rows clear it. Parameters:
# run_id, seq, stage, idempotency_key, attempts, worker, reconciled, now, then for the result:
# seq, stage, output, attempts, reconciled.
_STEP_COLUMNS = (
    "run_id, seq, stage, status, output, idempotency_key, attempts, worker, reconciled, "
    "started_at, updated_at"
)
_STEP_CONFLICT = (
    f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET status = excluded.status, "
    "output = excluded.output, error = NULL, attempts = excluded.attempts, "
    "worker = excluded.worker, reconciled = excluded.reconciled, "
    "started_at = COALESCE(excluded.started_at, run_checkpoints.started_at), "
    "updated_at = excluded.updated_at"
)
_INTENT_VALUES = f"(?1, ?2, ?3, '{Checkpoint.STARTED}', NULL, ?4, ?5, ?6, ?7, ?8, ?8)"
INTENT = f"INSERT INTO run_checkpoints ({_STEP_COLUMNS}) VALUES {_INTENT_VALUES} {_STEP_CONFLICT}"
INTENT_AND_DONE = (
    f"INSERT INTO run_checkpoints ({_STEP_COLUMNS}) VALUES {_INTENT_VALUES}, "
    f"(?1, ?9, ?10, '{Checkpoint.DONE}', ?11, NULL, ?12, ?6, ?13, NULL, ?8) {_STEP_CONFLICT}"
)

# --- records and leases ------------------------------------------------------------------------

RECORD_COLUMNS = tuple(column.name for column in run_records.columns)
_RECORD_INSERT = ("run_id", "seq", "key", "input", "state")
INSERT_RECORD = f"INSERT INTO run_records ({', '.join(_RECORD_INSERT)}) VALUES ({_marks(5)})"
INSERT_LEASED = (
    f"INSERT INTO run_records ({', '.join(_RECORD_INSERT)}, lease_owner, lease_until) "
    f"VALUES (?, ?, ?, ?, '{RecordState.ACTIVE}', ?, ?)"
)
FREE = f"state = '{RecordState.ACTIVE}' AND (lease_until IS NULL OR lease_until < ?)"
CLAIMABLE = (
    f"SELECT seq, key, input, lease_owner FROM run_records WHERE run_id = ? AND {FREE} "
    "ORDER BY seq LIMIT ?"
)
LEASE = "UPDATE run_records SET lease_owner = ?, lease_until = ? WHERE run_id = ? AND seq IN ({})"
# A range on the primary key, not an IN list: the one plan every planner gets right.
CHECKPOINTS = (
    "SELECT seq, stage, status, output, attempts, reconciled FROM run_checkpoints "
    "WHERE run_id = ? AND seq BETWEEN ? AND ?"
)
RENEW = (
    "UPDATE run_records SET lease_until = ? WHERE run_id = ? AND seq BETWEEN ? AND ? "
    f"AND lease_owner = ? AND state = '{RecordState.ACTIVE}'"
)
STILL_MINE = (
    "SELECT 1 FROM run_records WHERE run_id = ? AND seq = ? AND lease_owner = ? "
    f"AND state = '{RecordState.ACTIVE}'"
)
RELEASE = (
    "UPDATE run_records SET lease_owner = NULL, lease_until = NULL "
    f"WHERE run_id = ? AND lease_owner = ? AND state = '{RecordState.ACTIVE}'"
)
SETTLE = (
    "UPDATE run_records SET state = ?, lease_owner = NULL, lease_until = NULL "
    "WHERE run_id = ? AND lease_owner = ? AND seq IN ({})"
)
REMAINING = (
    "SELECT state, count(*), min(lease_until) FROM run_records WHERE run_id = ? "
    f"AND state IN ('{RecordState.ACTIVE}', '{RecordState.HELD}') GROUP BY state"
)

# --- runs ----------------------------------------------------------------------------------------

RUN_COLUMNS = tuple(column.name for column in runs.columns)
_RUN_INSERT = ("id", "process_id", "batch", "seat_id", "status", "stages", "records_total")
INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(_RUN_INSERT)}, records_digest, created_at) "
    f"VALUES (?, ?, ?, ?, '{RunState.RUNNING}', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
RUN_DIGEST = "SELECT records_digest FROM runs WHERE id = ?"
RUN_STATE = "SELECT status FROM runs WHERE id = ?"
RUN_STAGES = "SELECT process_id, stages FROM runs WHERE id = ?"
FINISH = (
    f"UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status = '{RunState.RUNNING}'"
)
# Parameters: the new status (failed or paused), the record, the stage, the error, the run.
FAIL_RUN = (
    "UPDATE runs SET status = ?, stopped_record = ?, stopped_stage = ?, "
    f"error = ? WHERE id = ? AND status = '{RunState.RUNNING}'"
)

# --- status --------------------------------------------------------------------------------------

RUN = (
    "SELECT id, process_id, batch, status, stages, records_total, created_at, finished_at, "
    "stopped_record, stopped_stage, error FROM runs WHERE id = ?"
)
COUNTS = (
    "SELECT stage, status, count(*), max(updated_at) FROM run_checkpoints WHERE run_id = ? "
    "GROUP BY stage, status"
)
WAITING = (
    "SELECT r.key, c.stage, c.status, c.idempotency_key, c.error FROM run_records r "
    "JOIN run_checkpoints c ON c.run_id = r.run_id AND c.seq = r.seq "
    f"WHERE r.run_id = ? AND c.status IN ('{Checkpoint.IN_DOUBT}', '{Checkpoint.HELD}') "
    "ORDER BY r.seq"
)
