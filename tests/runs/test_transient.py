"""Transient faults mid-run: a real worker (``python -m orgplane run start``) whose first stage
talks to a local mail server the test controls. The server drops every connection from record 31
on; the run pauses (not fails) naming record 31; once the server is back, a resume finishes the
run and the server's log shows that records 1 to 30 were never requested again."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from orgplane.respond.events import recent_events
from orgplane.runs import check
from orgplane.store.engine import open_store
from tests.surfaces.cli_helpers import orgplane_process

STAGES_FILE = Path(__file__).parent / "mail_stages.py"

ORG_YAML = """\
name: Mail org
seats:
  lead:
    title: Client lead
    kind: human
    capabilities: [approve]
  pepper:
    title: Inbox triage
    kind: agent
    reports_to: lead
    owner: lead
    capabilities: [triage]
processes:
  triage:
    seat: pepper
    module: {module}
    stages:
      - name: fetch
        kind: pure
      - name: classify
        kind: pure
      - name: label
        kind: effectful
    handled_errors:
      - match: ConnectionLost
        action: retry
        retries: 2
        backoff: 0.01s
        when_exhausted: pause
        message: The mail connection dropped; reconnecting
"""


class MailServer:
    """A local HTTP mail server in a thread: logs every record requested (dropped ones too) and,
    while ``drop_from`` is set, drops the connection of every record from that number on."""

    def __init__(self) -> None:
        self.log: list[int] = []
        self.drop_from: int | None = None
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ident = int(self.path.rsplit("/", 1)[-1])
                with server.lock:
                    server.log.append(ident)
                    dropping = server.drop_from is not None and ident >= server.drop_from
                if dropping:
                    self.close_connection = True
                    return  # no response at all: the client sees the connection drop
                body = json.dumps({"subject": f"invoice {ident}" if ident % 3 else "hello"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{host} {port}"

    def requested(self) -> list[int]:
        with self.lock:
            return list(self.log)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.close()


def cli(org_file: Path, db_url: str, *args: str) -> tuple[int, dict[str, object], str]:
    done = orgplane_process("--org", str(org_file), "--db", db_url, *args, "--json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def labelled(org_dir: Path) -> Counter[int]:
    path = org_dir / "labels.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(int(line.split()[0]) for line in lines)


@pytest.mark.slow
def test_dropped_connection_pauses_at_record_31_and_resume_continues_there(
    tmp_path: Path, db_url: str, mail_server: MailServer
) -> None:
    folder = tmp_path / "org"
    folder.mkdir()
    org_file = folder / "org.yaml"
    org_file.write_text(ORG_YAML.format(module=STAGES_FILE))
    (folder / "mail-server.txt").write_text(mail_server.address)
    batch = tmp_path / "inbox.json"
    batch.write_text(json.dumps([{"id": i} for i in range(1, 51)]))

    mail_server.drop_from = 31
    code, run, _ = cli(org_file, db_url, "run", "start", "triage", str(batch), "--batch", "b1")
    assert code == 1, run  # paused: needs attention, not an error of the command
    assert run["state"] == "paused"
    stopped = run["stopped"]
    assert isinstance(stopped, dict)
    assert (stopped["record"], stopped["stage"], stopped["error_type"]) == (
        "31",
        "fetch",
        "ConnectionLost",
    )
    assert re.search(r"record 31.*paused", str(stopped["summary"]))
    # Record 31 was tried once and retried twice on the same record; nothing after it started.
    assert Counter(mail_server.requested()) == Counter({**dict.fromkeys(range(1, 31), 1), 31: 3})
    assert labelled(folder) == Counter(range(1, 31))  # records 1-30 went to the end

    code, status, _ = cli(org_file, db_url, "run", "status", "triage:b1")
    assert code == 1 and status["state"] == "paused" and status["resume"]
    code, listed, _ = cli(org_file, db_url, "run", "list")
    runs = listed["runs"]
    assert isinstance(runs, list)
    assert [(r["state"], r["stopped_at"]) for r in runs] == [
        ("paused", {"record": "31", "stage": "fetch"})
    ]
    store = open_store(db_url)
    try:
        with store.read() as conn:
            events = [e for e in recent_events(conn) if e["run_id"] == "triage:b1"]
    finally:
        store.dispose()
    assert [(e["kind"], e["record_key"], e["stage"]) for e in events] == [
        ("paused", "31", "fetch")
    ]  # one event, for the decision engine; not a failure

    # Resumed while the server is still down: the record gets its retries afresh, pauses again.
    code, run, _ = cli(org_file, db_url, "run", "resume", "triage:b1")
    assert code == 1 and run["state"] == "paused"
    assert Counter(mail_server.requested())[31] == 6

    # The server comes back: the resume finishes the run from record 31.
    mail_server.drop_from = None
    before = len(mail_server.requested())
    code, run, err = cli(org_file, db_url, "run", "resume", "triage:b1")
    assert code == 0, err
    assert run["state"] == "finished" and run["stopped"] is None
    resumed = mail_server.requested()[before:]
    assert sorted(resumed) == list(range(31, 51))  # each once, from where it paused
    everything = Counter(mail_server.requested())
    assert all(everything[i] == 1 for i in range(1, 31))  # 1-30 never requested again
    assert labelled(folder) == Counter(range(1, 51))  # every record labelled exactly once
    store = open_store(db_url)
    try:
        assert check(store, "triage:b1") == []  # checkpoints and records agree
    finally:
        store.dispose()


def test_an_agent_reporting_a_transient_error_pauses_its_run(agency: Path, db_url: str) -> None:
    """The example's Pepper is not Python: it reports each stage with 'orgplane checkpoint'.
    GmailConnectionLost is declared transient (retry 5, then pause): the sixth report pauses the
    run at that email, and a resume reopens it for the agent, from that record."""
    from tests.surfaces.cli_helpers import orgplane

    def run(*args: str) -> tuple[int, dict[str, object]]:
        done = orgplane("--org", str(agency), "--db", db_url, *args, "--json")
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, json.loads(done.stdout)

    inbox = agency.parent / "inbox.json"
    inbox.write_text(json.dumps([{"id": f"m{i}"} for i in range(1, 6)]))
    code, view = run("run", "start", "pepper-triage", str(inbox), "--batch", "mon")
    assert code == 0 and view["state"] == "running"
    code, view = run("checkpoint", "pepper-triage:mon", "m1", "fetch", "--done")
    for attempt in range(1, 6):  # five retries: the agent is told to try again
        code, view = run(
            "checkpoint", "pepper-triage:mon", "m2", "fetch", "--failed", "GmailConnectionLost"
        )
        assert view["state"] == "running", attempt
    code, view = run(
        "checkpoint", "pepper-triage:mon", "m2", "fetch", "--failed", "GmailConnectionLost"
    )
    assert code == 1 and view["state"] == "paused"
    stopped = view["stopped"]
    assert isinstance(stopped, dict) and (stopped["record"], stopped["code"]) == (
        "m2",
        "GmailConnectionLost",
    )
    stages = view["stages"]
    assert isinstance(stages, dict) and stages["fetch"]["failed"] == 0  # paused, not failed
    code, view = run("run", "resume", "pepper-triage:mon")
    assert code == 0 and view["state"] == "running"
