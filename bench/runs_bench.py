"""Durable staged processes: orgplane's per-step overhead next to DBOS Transact, LangGraph's
SQLite checkpointer and plain driver loops, in one invocation.

The pipeline is the same everywhere: two trivial stages over N records, every stage's result
durably recorded. orgplane runs it twice: with two pure stages (checkpoints grouped per chunk)
and with two effectful stages (intent committed before every effect, the result with the next
intent). The physical references are a plain ``sqlite3`` loop that inserts one row per step
and commits after every step, or once per batch, with the pragmas orgplane uses (WAL,
synchronous=NORMAL); DBOS and LangGraph get the same pragmas. On PostgreSQL the reference is a
plain psycopg loop.

Every contender, orgplane included, gets the same treatment at every size: one warm-up run,
then the best of ``ORGPLANE_BENCH_REPEATS`` (default 5) measured runs.

    make bench                       # or: .venv/bin/python -m bench runs_bench
    ORGPLANE_BENCH_SIZES=30,1000 ...  # fewer sizes; ORGPLANE_BENCH_PG=<url> another server
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orgplane.org.loader import parse_org
from orgplane.runs import Process, StageContext, stage
from orgplane.store.engine import open_store

SIZES = tuple(int(s) for s in os.environ.get("ORGPLANE_BENCH_SIZES", "30,1000,10000").split(","))
REPEATS = int(os.environ.get("ORGPLANE_BENCH_REPEATS", "5"))
WARM_UPS = 1
PG_URL = os.environ.get("ORGPLANE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ORG = """
name: Bench
seats:
  boss: {title: Boss, kind: human, capabilities: [approve]}
  bot: {title: Bot, kind: agent, reports_to: boss, owner: boss, capabilities: [work]}
processes:
  pure:
    seat: bot
    stages: [{name: one, kind: pure}, {name: two, kind: pure}]
  effectful:
    seat: bot
    stages: [{name: one, kind: effectful}, {name: two, kind: effectful}]
"""


@stage("one")
def one(record: dict[str, Any], ctx: StageContext) -> dict[str, int]:
    return {"n": record["n"] + 1}


@stage("two")
def two(value: dict[str, int], ctx: StageContext) -> dict[str, int]:
    return {"n": value["n"] * 2}


STAGES = {"one": one.__orgplane_stage__, "two": two.__orgplane_stage__}  # type: ignore[attr-defined]


def records(n: int) -> list[dict[str, int]]:
    return [{"id": i, "n": i} for i in range(n)]


def best(repeats: int, measure: Callable[[], float]) -> float:
    """The fastest of ``repeats`` measurements: on a shared machine, noise only adds time."""
    return min(measure() for _ in range(repeats))


def measured(measure: Callable[[], float]) -> float:
    """The one treatment every contender gets: ``WARM_UPS`` runs thrown away, then the best of
    ``REPEATS``."""
    for _ in range(WARM_UPS):
        measure()
    return best(REPEATS, measure)


def per_step(seconds: float, n: int) -> float:
    return seconds / (2 * n) * 1e6


# --- orgplane ---------------------------------------------------------------------------------


class Orgplane:
    """orgplane on one store, opened (and migrated) once, as a long-lived worker has it."""

    def __init__(self, url: str) -> None:
        self.store = open_store(url)
        org = parse_org(ORG, Path(tempfile.mkdtemp(prefix="orgplane-bench-")) / "org.yaml")
        self.processes = {
            kind: Process(org, kind, STAGES, self.store) for kind in ("pure", "effectful")
        }
        self.processes["pure"].run(records(5), batch="warm-up")

    def run(self, kind: str, n: int) -> float:
        """µs per step of a whole ``process.run``: storing the batch and the final status included."""
        batch = records(n)
        started = time.perf_counter()
        status = self.processes[kind].run(batch, batch=f"b{uuid.uuid4().hex[:8]}")
        elapsed = time.perf_counter() - started
        assert status.state == "finished", status.as_dict()
        return per_step(elapsed, n)

    def close(self) -> None:
        self.store.dispose()


# --- plain driver loops -------------------------------------------------------------------------


def plain_sqlite(n: int, commit_every_step: bool) -> float:
    path = Path(tempfile.mkdtemp(prefix="orgplane-bench-")) / "plain.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE steps (run TEXT, seq INTEGER, stage TEXT, output TEXT, "
        "PRIMARY KEY (run, seq, stage))"
    )
    started = time.perf_counter()
    conn.execute("BEGIN")
    for record in records(n):
        value: dict[str, int] = record
        for name, function in (("one", one), ("two", two)):
            value = function(value, None)  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO steps VALUES (?, ?, ?, ?)",
                ("run", record["id"], name, json.dumps(value)),
            )
            if commit_every_step:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return per_step(elapsed, n)


def plain_psycopg(url: str, n: int, commit_every_step: bool) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE steps (run TEXT, seq INTEGER, stage TEXT, output JSON, "
            "PRIMARY KEY (run, seq, stage))"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            for record in records(n):
                value: dict[str, int] = record
                for name, function in (("one", one), ("two", two)):
                    value = function(value, None)  # type: ignore[arg-type]
                    cursor.execute(
                        "INSERT INTO steps VALUES (%s, %s, %s, %s)",
                        ("run", record["id"], name, json.dumps(value)),
                    )
                    if commit_every_step:
                        conn.commit()
        conn.commit()
        return per_step(time.perf_counter() - started, n)


# --- peers ----------------------------------------------------------------------------------------


class Dbos:
    """DBOS Transact on a SQLite system database (WAL, synchronous=NORMAL), launched once.

    One workflow per batch, each stage of each record a ``@DBOS.step`` (DBOS's cheapest
    per-step shape: no per-record workflow bookkeeping)."""

    def __init__(self) -> None:
        import sqlalchemy
        from dbos import DBOS

        path = Path(tempfile.mkdtemp(prefix="orgplane-bench-")) / "dbos.db"
        engine = sqlalchemy.create_engine(f"sqlite:///{path}")

        @sqlalchemy.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        @DBOS.step()
        def step_one(n: int) -> int:
            return n + 1

        @DBOS.step()
        def step_two(n: int) -> int:
            return n * 2

        @DBOS.workflow()
        def pipeline(count: int) -> None:
            for i in range(count):
                step_two(step_one(i))

        self.dbos = DBOS
        self.pipeline = pipeline
        DBOS(
            config={
                "name": "orgplane-bench",
                "system_database_url": f"sqlite:///{path}",
                "system_database_engine": engine,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()

    def run(self, n: int) -> float:
        started = time.perf_counter()
        self.pipeline(n)
        return per_step(time.perf_counter() - started, n)

    def close(self) -> None:
        self.dbos.destroy()


def langgraph(n: int) -> float:
    """LangGraph: a two-node graph compiled with SqliteSaver (WAL, synchronous=NORMAL), one
    thread per record, ``durability="sync"`` so each step is on disk before the next."""
    from typing import TypedDict

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("one", lambda s: {"n": s["n"] + 1})
    graph.add_node("two", lambda s: {"n": s["n"] * 2})
    graph.add_edge(START, "one")
    graph.add_edge("one", "two")
    graph.add_edge("two", END)
    path = Path(tempfile.mkdtemp(prefix="orgplane-bench-")) / "langgraph.db"
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    app = graph.compile(checkpointer=SqliteSaver(conn))
    started = time.perf_counter()
    for i in range(n):
        app.invoke({"n": i}, {"configurable": {"thread_id": str(i)}}, durability="sync")
    elapsed = time.perf_counter() - started
    conn.close()
    return per_step(elapsed, n)


def attempt(name: str, action: Callable[[], Any]) -> Any:
    """Run a peer; say honestly why not when it cannot install or run here."""
    try:
        return action()
    except ImportError as exc:
        print(f"  {name}: not installed ({exc.name}); 'make bench' installs the bench extra")
    except Exception as exc:
        print(f"  {name}: failed to run here: {type(exc).__name__}: {exc}")
    return None


# --- report ---------------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def ratio(slow: float | None, fast: float | None) -> str:
    return "n/a" if slow is None or fast is None else f"{slow / fast:.1f}x"


def sqlite_section() -> list[dict[str, Any]]:
    print("\nSQLite, µs per step (a step = one stage of one record, durably recorded; for every")
    print(f"contender {WARM_UPS} warm-up run, then the best of {REPEATS})")
    dbos = attempt("DBOS", Dbos)
    rows = []
    header = ("records", "pure", "effectful", "sqlite3/batch", "sqlite3/step", "DBOS", "LangGraph")
    print("  " + "".join(f"{h:>15}" for h in header))
    ours = Orgplane(f"sqlite:///{tempfile.mkdtemp(prefix='orgplane-bench-')}/orgplane.db")
    for n in SIZES:
        row: dict[str, Any] = {"n": n}
        row["pure"] = measured(lambda n=n: ours.run("pure", n))
        row["effectful"] = measured(lambda n=n: ours.run("effectful", n))
        row["batch"] = measured(lambda n=n: plain_sqlite(n, commit_every_step=False))
        row["step"] = measured(lambda n=n: plain_sqlite(n, commit_every_step=True))
        row["dbos"] = attempt("DBOS", lambda n=n: measured(lambda: dbos.run(n))) if dbos else None
        row["langgraph"] = attempt("LangGraph", lambda n=n: measured(lambda: langgraph(n)))
        keys = ("pure", "effectful", "batch", "step", "dbos", "langgraph")
        print(f"  {n:>15,}" + "".join(f"{fmt(row[k]):>15}" for k in keys), flush=True)
        rows.append(row)
    ours.close()
    if dbos:
        dbos.close()
    return rows


def postgres_section() -> list[dict[str, Any]] | None:
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(
            f"\nPostgreSQL at {PG_URL} not reachable ({exc}); set ORGPLANE_BENCH_PG to measure it"
        )
        return None
    print(
        f"\nPostgreSQL ({PG_URL}, server defaults: fsync on, synchronous_commit on), µs per step;"
    )
    print(f"for every contender {WARM_UPS} warm-up run, then the best of {REPEATS}")
    header = ("records", "pure", "effectful", "psycopg/batch", "psycopg/step")
    print("  " + "".join(f"{h:>15}" for h in header))
    rows = []
    with fresh_schema() as url:
        ours = Orgplane(url)
        for n in SIZES:
            row: dict[str, Any] = {"n": n}
            row["pure"] = measured(lambda n=n: ours.run("pure", n))
            row["effectful"] = measured(lambda n=n: ours.run("effectful", n))
            for key, every_step in (("batch", False), ("step", True)):
                row[key] = measured(lambda n=n, e=every_step: plain_pg(n, e))
            keys = ("pure", "effectful", "batch", "step")
            print(f"  {n:>15,}" + "".join(f"{fmt(row[k]):>15}" for k in keys), flush=True)
            rows.append(row)
        ours.close()
    return rows


def plain_pg(n: int, commit_every_step: bool) -> float:
    with fresh_schema() as url:
        return plain_psycopg(url, n, commit_every_step)


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL schema, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def verdicts(rows: list[dict[str, Any]], pg: list[dict[str, Any]] | None) -> None:
    print(
        "\nRatios (targets: pure within 3x of sqlite3/batch, effectful within 3x of sqlite3/step,"
    )
    print("both at least 10x faster per step than DBOS and LangGraph)")
    for row in rows:
        pure, eff = row["pure"], row["effectful"]
        print(
            f"  {row['n']:>6,} records: pure {ratio(pure, row['batch'])} of sqlite3/batch, "
            f"effectful {ratio(eff, row['step'])} of sqlite3/step; DBOS is "
            f"{ratio(row['dbos'], pure)} slower than pure, {ratio(row['dbos'], eff)} than "
            f"effectful; LangGraph {ratio(row['langgraph'], pure)} / {ratio(row['langgraph'], eff)}"
        )
    for row in pg or []:
        print(
            f"  PostgreSQL {row['n']:>6,} records: pure {ratio(row['pure'], row['batch'])} of "
            f"psycopg/batch, effectful {ratio(row['effectful'], row['step'])} of psycopg/step"
        )


def main() -> None:
    print(f"orgplane runs: two trivial stages over {', '.join(f'{n:,}' for n in SIZES)} records")
    rows = sqlite_section()
    pg = postgres_section()
    verdicts(rows, pg)


if __name__ == "__main__":
    main()
