"""What the HTTP API costs over calling the service in-process: requests/s and p99 latency of a
read (the org chart) and a write (a checkpoint), from a local load generator against
``orgplane serve`` in its own process, next to the same use case called in a plain loop.

The server is the real command (one uvicorn worker, SQLite beside the org unless
``API_BENCH_DB`` names another store); the load generator is ``API_BENCH_THREADS`` threads each
with its own keep-alive httpx client, for ``API_BENCH_SECONDS`` per contender. Every checkpoint
records a different record, so no write is a no-op.

Run: ``make bench`` or ``.venv/bin/python -m bench api_bench``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from orgplane.org.scaffold import write_example
from orgplane.service.org import chart
from orgplane.service.runs import checkpoint, start_run
from orgplane.service.session import Session
from orgplane.service.tokens import create_token

SECONDS = float(os.environ.get("API_BENCH_SECONDS", "5"))
THREADS = int(os.environ.get("API_BENCH_THREADS", "4"))
RECORDS = int(os.environ.get("API_BENCH_RECORDS", "3000"))
"""Records in each benchmark run; a contender stops early when it has checkpointed them all."""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def in_process(work: Callable[[int], object]) -> tuple[float, float]:
    """(calls/s, p99 seconds) of ``work(i)`` called in a loop for :data:`SECONDS`."""
    for i in range(20):  # warm-up
        work(i)
    latencies: list[float] = []
    counter = itertools.count(20)
    end = time.perf_counter() + SECONDS
    start = time.perf_counter()
    while time.perf_counter() < end:
        i = next(counter)
        if i >= RECORDS:
            break
        began = time.perf_counter()
        work(i)
        latencies.append(time.perf_counter() - began)
    return len(latencies) / (time.perf_counter() - start), percentile(latencies, 0.99)


def over_http(
    url: str, token: str, request: Callable[[httpx.Client, int], httpx.Response]
) -> tuple[float, float]:
    """(requests/s, p99 seconds) of :data:`THREADS` threads sending ``request`` for
    :data:`SECONDS`; any answer but 200 fails the benchmark."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    def worker(deadline: float) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for _ in range(5):  # warm-up: connection, server caches
                with lock:
                    i = next(counter)
                request(client, i)
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter)
                if i >= RECORDS:
                    break
                began = time.perf_counter()
                answer = request(client, i)
                mine.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                    return
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    deadline = start + SECONDS
    threads = [threading.Thread(target=worker, args=(deadline,)) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"the API refused a benchmark request: {failures[0]}")
    return len(latencies) / (time.perf_counter() - start), percentile(latencies, 0.99)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        folder = Path(tmp)
        org_file = write_example(folder / "agency", "agency")
        db = os.environ.get("API_BENCH_DB") or f"sqlite:///{folder / 'bench.db'}"
        batch = folder / "batch.json"
        batch.write_text(json.dumps([{"id": f"m{i}"} for i in range(RECORDS)]))
        session = Session.open(org_file, db)
        for name in ("http", "local"):
            start_run(session, "pepper-triage", batch, batch=name)
        token = create_token(session, "pepper").token

        local_read = in_process(lambda _i: chart(session))
        local_write = in_process(
            lambda i: checkpoint(session, "pepper-triage:local", f"m{i}", "fetch", done=True)
        )

        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orgplane",
                "--org",
                str(org_file),
                "--db",
                db,
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("orgplane serve did not start") from None
                    time.sleep(0.1)
            api_read = over_http(url, token, lambda c, _i: c.get("/api/chart"))
            api_write = over_http(
                url,
                token,
                lambda c, i: c.post(
                    "/api/checkpoints",
                    json={
                        "run_id": "pepper-triage:http",
                        "record": f"m{i}",
                        "stage": "fetch",
                        "action": "done",
                    },
                ),
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            session.close()

    backend = db.split(":", 1)[0]
    print(
        f"agency example, {backend}; {SECONDS:g}s a contender; HTTP: orgplane serve (one "
        f"process) and {THREADS} client threads with keep-alive, on this machine"
    )
    print(f"  {'':32} {'per second':>11} {'p99 ms':>8}   in-process / HTTP")
    for label, local, api in (
        ("read: the chart", local_read, api_read),
        ("write: a checkpoint", local_write, api_write),
    ):
        print(f"  {label + ', in-process':32} {local[0]:11.0f} {local[1] * 1000:8.2f}")
        print(
            f"  {label + ', over HTTP':32} {api[0]:11.0f} {api[1] * 1000:8.2f}   "
            f"{local[0] / api[0]:.2f}x"
        )


if __name__ == "__main__":
    main()
