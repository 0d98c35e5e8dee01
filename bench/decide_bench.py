"""Decision latency with the daemon running: event committed -> decision stored ->
notification handed to Apprise.

A real ``orgplane watch`` process decides while this process commits events as an agent would,
each in its own transaction: a steady load (200 events/s for 30 s by default) and then a burst
(10,000 events in one transaction). The steady figures are percentiles of the stored latency
(the event's ``recorded_at`` to its decision); the burst is timed by an observer here, until
no event is left undecided. The plain reference, measured in the same run, is a bare waiter in
this process that only notices each commit (the same wake-up: LISTEN/NOTIFY on PostgreSQL,
polling the newest id on SQLite) and decides nothing: the floor any decider sits on. Half the
events are escalations: each queues a message to Nick's owner, posted through Apprise to a
local HTTP receiver in this process; its latency runs to the first send attempt's start.

The daemon's memory (VmRSS) is sampled at the start, the end of the steady load and after the
burst. Knobs: ORGPLANE_BENCH_STEADY_S, ORGPLANE_BENCH_RATE, ORGPLANE_BENCH_BURST.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from orgplane.org.edit import edit_org_file
from orgplane.org.scaffold import write_example
from orgplane.respond.decisions import undecided_count
from orgplane.respond.events import FailureEvent, record_event, record_events
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import decision_events, events, notification_attempts, notifications
from orgplane.store.types import utcnow
from orgplane.store.wakeup import EventWakeup

STEADY_S = float(os.environ.get("ORGPLANE_BENCH_STEADY_S", "30"))
RATE = float(os.environ.get("ORGPLANE_BENCH_RATE", "200"))
BURST = int(os.environ.get("ORGPLANE_BENCH_BURST", "10000"))
PG_URL = os.environ.get("ORGPLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def event(n: int, tag: str) -> FailureEvent:
    """Half unhandled errors of Nick's runs (escalated to the owner), half stale outputs
    (skipped and flagged): each its own subject, so each opens a decision."""
    if n % 2:
        return FailureEvent(
            kind="unhandled_error",
            occurred_at=utcnow(),
            subject_kind="run",
            subject_id=f"nick-prospecting:{tag}-{n}",
            seat_id="nick",
            message="LM-503 nobody planned for",
        )
    return FailureEvent(
        kind="stale",
        occurred_at=utcnow(),
        subject_kind="output",
        subject_id=f"dash-analysis-{tag}-{n}",
        seat_id="dash",
        message="its data is 20h old, over its max_age of 18h",
    )


class Reference(threading.Thread):
    """The floor: notice each commit (the daemon's own wake-up) and decide nothing."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.store = open_store(url)
        self.latencies: list[float] = []
        self.stopping = threading.Event()
        self.seen = 0

    def run(self) -> None:
        wakeup = EventWakeup(self.store, poll=0.1)
        with self.store.read() as conn:
            self.seen = int(conn.execute(select(func.max(events.c.id))).scalar() or 0)
        while not self.stopping.is_set():
            if not wakeup.wait(0.5):
                continue
            now = utcnow()
            with self.store.read() as conn:
                rows = conn.execute(
                    select(events.c.id, events.c.recorded_at).where(events.c.id > self.seen)
                ).all()
            for ident, recorded in rows:
                self.latencies.append((now - recorded).total_seconds())
                self.seen = max(self.seen, int(ident))
        wakeup.close()
        self.store.dispose()


class Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def point_people_at(org: Path, port: int) -> None:
    def change(doc: dict) -> None:  # type: ignore[type-arg]
        for seat_id, seat in doc["seats"].items():
            if "notify_urls" in seat:
                seat["notify_urls"] = [f"json://127.0.0.1:{port}/{seat_id}"]

    edit_org_file(org, change)


def notification_latencies(store: Store, since: datetime) -> list[float]:
    """First send attempt's start minus the commit of the event that opened its decision."""
    first = (
        select(
            notification_attempts.c.notification_id,
            func.min(notification_attempts.c.started_at).label("handed"),
        )
        .group_by(notification_attempts.c.notification_id)
        .subquery()
    )
    with store.read() as conn:
        rows = conn.execute(
            select(first.c.handed, events.c.recorded_at)
            .join(notifications, notifications.c.id == first.c.notification_id)
            .join(decision_events, decision_events.c.decision_id == notifications.c.decision_id)
            .join(events, events.c.id == decision_events.c.event_id)
            .where(events.c.recorded_at >= since, notifications.c.reason == "opened")
        ).all()
    return [(handed - recorded).total_seconds() for handed, recorded in rows]


def wait_sent(store: Store, timeout: float = 300.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with store.read() as conn:
            left = conn.execute(
                select(func.count())
                .select_from(notifications)
                .where(notifications.c.status.in_(("pending", "sending", "retrying")))
            ).scalar()
        if not left:
            return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"notifications still unsent after {timeout}s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_daemon(org: Path, url: str) -> subprocess.Popen[str]:
    """The daemon with its log in a file beside the org (a pipe nobody reads would block it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    log = (org.parent / "daemon.log").open("a")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orgplane",
            "--org",
            str(org),
            "--db",
            url,
            "watch",
            "--interval",
            "1h",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        env=env,
    )


def steady(store: Store, tag: str, pid: int, samples: list[float]) -> int:
    """Commit RATE events a second for STEADY_S seconds, one transaction each, on schedule;
    the daemon's memory (``pid``) is sampled every tenth of the way into ``samples``."""
    total = int(STEADY_S * RATE)
    start = time.perf_counter()
    every = max(1, total // 10)
    for n in range(total):
        due = start + n / RATE
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        with store.write() as conn:
            record_event(conn, event(n, tag))
        if n % every == every - 1:
            samples.append(rss_mb(pid))
    return total


def wait_decided(store: Store, daemon: subprocess.Popen[str], timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if daemon.poll() is not None:
            raise RuntimeError(f"the daemon exited {daemon.returncode}; see its daemon.log")
        with store.read() as conn:
            if undecided_count(conn) == 0:
                return time.perf_counter() - start
        time.sleep(0.02)
    raise RuntimeError(f"events still undecided after {timeout}s")


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    if not ordered:
        return (float("nan"),) * 3
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99, ordered[-1]


def stored_latencies(store: Store, since: datetime) -> list[float]:
    with store.read() as conn:
        rows = conn.execute(
            select(decision_events.c.decided_at, events.c.recorded_at)
            .join(events, events.c.id == decision_events.c.event_id)
            .where(events.c.recorded_at >= since)
        ).all()
    return [(decided - recorded).total_seconds() for decided, recorded in rows]


def measure(backend: str, url: str, org: Path) -> None:
    store = open_store(url)  # created and migrated here, before the daemon starts
    daemon = start_daemon(org, url)
    reference = Reference(url)
    try:
        time.sleep(3.0)  # the daemon's start-up and first pass
        reference.start()
        rss_start = rss_mb(daemon.pid)
        since = utcnow()
        samples: list[float] = []
        total = steady(store, "steady", daemon.pid, samples)
        wait_decided(store, daemon)
        wait_sent(store)
        rss_steady = rss_mb(daemon.pid)
        p50, p99, worst = percentiles(stored_latencies(store, since))
        n50, n99, nworst = percentiles(notification_latencies(store, since))
        r50, r99, rworst = percentiles(reference.latencies)
        with store.write() as conn:
            record_events(conn, [event(n, "burst") for n in range(BURST)])
        drained = wait_decided(store, daemon)
        sent = drained + wait_sent(store)
        rss_burst = rss_mb(daemon.pid)
    finally:
        reference.stopping.set()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        store.dispose()
    log = (org.parent / "daemon.log").read_text()
    if "Traceback" in log:
        raise RuntimeError(log[-2000:])
    print(f"  {backend}: steady {total} events at {RATE:g}/s over {STEADY_S:g}s")
    print(
        f"    decision  p50 {p50 * 1000:6.0f} ms  p99 {p99 * 1000:6.0f} ms  max {worst * 1000:6.0f} ms"
    )
    print(
        f"    notified  p50 {n50 * 1000:6.0f} ms  p99 {n99 * 1000:6.0f} ms  "
        f"max {nworst * 1000:6.0f} ms  (handed to Apprise)"
    )
    print(
        f"    reference p50 {r50 * 1000:6.0f} ms  p99 {r99 * 1000:6.0f} ms  max {rworst * 1000:6.0f} ms"
        "  (noticing the commit only)"
    )
    print(f"    p50 ratio {p50 / r50:5.2f}x of the reference" if r50 else "")
    print(
        f"  {backend}: burst of {BURST} events in one transaction decided in {drained:5.2f}s, "
        f"its {BURST // 2} notifications sent in {sent:5.2f}s"
    )
    print(
        f"    daemon memory: {rss_start:.0f} MB at start, {rss_steady:.0f} MB after the steady "
        f"load, {rss_burst:.0f} MB after the burst"
    )
    print(
        "    daemon memory every tenth of the steady load (MB): "
        + " ".join(f"{m:.0f}" for m in samples)
    )


def main() -> None:
    server = receiver()
    with tempfile.TemporaryDirectory() as tmp:
        org = write_example(Path(tmp) / "agency", "agency")
        point_people_at(org, server.server_address[1])
        measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", org)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.Error as exc:
            print(f"  PostgreSQL: skipped ({exc})")
            return
        try:
            measure("PostgreSQL", f"{PG_URL}?options=-csearch_path%3D{schema}", org)
        finally:
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
