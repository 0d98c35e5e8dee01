"""The daemon behind ``orgplane watch``: detection passes, and a response to every event within a
second of its commit, whoever wrote it.

Three loops, each on its own thread and its own connections, so none waits for another:

- the **watcher** runs a check pass every interval (:class:`orgplane.watch.daemon.Watcher`);
- the **responder** wakes when events are committed (LISTEN/NOTIFY on PostgreSQL, polling the
  newest id on SQLite), decides them, notices runs whose workers all died, closes decisions a
  finished run answered, and restarts dead runs (the ``resume`` action) in processes of their
  own;
- the **sender** runs follow-ups and hands due notifications to Apprise, so a target that
  never answers delays no decision.

Every step is safe with several daemons on one store: events are claimed by compare-and-set,
resume attempts by their primary key, notifications by their claim columns. A failing step is
one log line and a retry; the daemon stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from orgplane.service.session import Session

if TYPE_CHECKING:
    from orgplane.respond.decisions import Outcome
    from orgplane.respond.resume import ResumeDue
    from orgplane.store.wakeup import EventWakeup

log = logging.getLogger("orgplane.daemon")

SWEEP_EVERY = 1.0
"""Seconds between sweeps for dead runs, finished runs and due resumes (events wake deciding
at once; these look at state no event announces)."""
WAIT = 1.0
"""The longest the responder sleeps when nothing wakes it."""

Step = Callable[[Session], object]
"""A sender step: a use case taking the sender's session (follow-ups, deliveries)."""


@dataclass
class DaemonConfig:
    """What ``orgplane watch`` was asked for."""

    org_path: Path
    db: str | None
    interval: timedelta
    respond: bool = True
    poll: float = 0.1
    """SQLite: seconds between looks at the newest event id."""
    sender_steps: list[Step] = field(default_factory=list)


class Daemon:
    """The watcher, the responder and the sender, until :meth:`stop` (or a signal in :meth:`run`)."""

    def __init__(self, config: DaemonConfig) -> None:
        from orgplane.watch.daemon import Watcher

        self.config = config
        self.stopping = threading.Event()
        self.kick = threading.Event()  # set when a decision may have queued a notification
        self.watcher = Watcher(config.org_path, config.db, config.interval)
        self.watcher.stopping = self.stopping
        self.responder = Responder(config, self.stopping, self.kick)
        self.threads: list[threading.Thread] = []

    def run(self) -> None:
        """Run every loop until SIGTERM or SIGINT; returns once they have all stopped."""
        from orgplane.store.engine import resolve_db_url
        from orgplane.watch.daemon import log_to_stderr

        resolve_db_url(self.config.db, self.config.org_path)  # a URL that can never work: now
        log_to_stderr()
        signals = (signal.SIGTERM, signal.SIGINT)
        previous = {s: signal.signal(s, self._on_signal) for s in signals}
        try:
            self.start()
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self) -> None:
        """Start the loops on threads of their own (for tests and embedding). The store is
        opened (created, migrated) here first, so the loops never race to create it; a store
        that cannot be reached yet is the loops' to retry."""
        with Session.open(self.config.org_path, self.config.db) as session:
            try:
                session.store()
            except Exception as exc:
                if not _expected(exc):
                    raise
                log.warning("store not ready: %s; the loops retry", _one_line(exc))
        loops: list[tuple[str, Callable[[], None]]] = [("watcher", self.watcher.serve)]
        if self.config.respond:
            loops.append(("responder", self.responder.serve))
            if self.config.sender_steps:
                loops.append(("sender", self._send_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=f"orgplane-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        """Ask every loop to finish its current step and stop."""
        self.stopping.set()
        self.kick.set()

    def join(self, timeout: float = 30.0) -> None:
        """Stop and wait for the loops."""
        self.stop()
        for thread in self.threads:
            thread.join(timeout)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.stop()

    def _send_loop(self) -> None:
        from orgplane.respond.delivery import warm_up

        session = Session.open(self.config.org_path, self.config.db)
        try:
            warm_up()  # before the first message is due, not while it waits
            while not self.stopping.is_set():
                while self.responder.draining.is_set() and not self.stopping.is_set():
                    # A burst is being decided: the interpreter and the store's write lock go
                    # to deciding first; its messages go out as soon as it is drained.
                    time.sleep(0.02)
                for step in self.config.sender_steps:
                    _guarded(session, step, "sending")
                self.kick.wait(WAIT)
                self.kick.clear()
        finally:
            session.close()


class Responder:
    """Decides events as they are committed; sweeps for dead and finished runs; resumes."""

    def __init__(self, config: DaemonConfig, stopping: threading.Event, kick: threading.Event):
        self.config = config
        self.stopping = stopping
        self.kick = kick
        self.host = socket.gethostname()
        self.children: list[tuple[ResumeDue, subprocess.Popen[bytes]]] = []
        self.draining = threading.Event()  # set while a burst is decided: the sender waits
        self._last_sweep = 0.0
        self._broken_org: str | None = None

    def serve(self) -> None:
        """Loop until stopped; a store that cannot be reached is retried every second."""
        session = Session.open(self.config.org_path, self.config.db)
        wakeup: EventWakeup | None = None
        log.info("deciding events on %s as they are committed", self.config.org_path)
        try:
            while not self.stopping.is_set():
                try:
                    wakeup = self._wakeup(session, wakeup)
                    self.step(session)
                    wakeup.wait(WAIT)
                except Exception as exc:
                    if not _expected(exc):
                        raise
                    log.warning("responding skipped: %s; retrying in 1s", _one_line(exc))
                    if wakeup is not None:
                        wakeup.close()
                    wakeup = None
                    session.close()
                    self.stopping.wait(1.0)
        finally:
            if wakeup is not None:
                wakeup.close()
            with contextlib.suppress(Exception):  # the store may be what stopped us
                self._reap(session)  # a resume that ended meanwhile is on record
            session.close()

    def _wakeup(self, session: Session, wakeup: EventWakeup | None) -> EventWakeup:
        from orgplane.store.wakeup import EventWakeup

        problem = session.refresh_org()
        if problem is not None and str(problem) != self._broken_org:
            self._broken_org = str(problem)
            log.warning("org file unusable, deciding by the last good one: %s", _one_line(problem))
        if wakeup is None:
            wakeup = EventWakeup(session.store(), poll=self.config.poll)
        return wakeup

    def step(self, session: Session) -> list[Outcome]:
        """Decide what is pending; at most once a second, sweep runs and start due resumes."""
        outcomes = self.decide(session)
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            self._reap(session)
            if self.sweep(session):
                outcomes += self.decide(session)  # what the sweep recorded, decided at once
            self.resume(session)
        return outcomes

    def decide(self, session: Session) -> list[Outcome]:
        """Decide every pending event, a batch a transaction, logging each decision."""
        from orgplane.respond import decisions as engine
        from orgplane.service.decisions import file_incidents
        from orgplane.service.notifications import ack_command

        org, store = session.org(), session.store()
        ack = ack_command(session)
        outcomes: list[Outcome] = []
        try:
            while not self.stopping.is_set():
                with store.write() as conn:
                    batch = engine.decide_pending(conn, org, command=ack)
                if not batch:
                    break
                outcomes.extend(batch)
                if len(batch) >= engine.BATCH:
                    self.draining.set()  # more are waiting: decide them before sending
                else:
                    self.kick.set()
        finally:
            self.draining.clear()
            if outcomes:
                self.kick.set()
        # After the decisions are committed (and the sender told): a burst is decided at full
        # speed, its incidents filed just behind, in event order, whoever decided each event.
        file_incidents(session)
        for outcome in outcomes[:20]:  # a burst is summed up, not logged line by line
            log.info(
                "event %d: %s decision %s in %d ms",
                outcome.event_id,
                outcome.effect,
                outcome.decision_id if outcome.decision_id is not None else "-",
                outcome.latency_ms,
            )
        if len(outcomes) > 20:
            log.info("... and %d more events decided", len(outcomes) - 20)
        return outcomes

    def sweep(self, session: Session) -> bool:
        """Record crashes of runs nobody works any more, and recoveries of finished runs."""
        from orgplane.service.decisions import sweep_runs

        return sweep_runs(session) > 0

    def resume(self, session: Session) -> None:
        """Start each resume attempt that is due, each in its own process."""
        from orgplane.respond.resume import plan_resumes, record_pid
        from orgplane.service.notifications import ack_command
        from orgplane.store.types import utcnow

        command = self.resume_command()
        org, store = session.org(), session.store()
        with store.write() as conn:
            due, exhausted = plan_resumes(
                conn, org, utcnow(), host=self.host, argv=command, ack=ack_command(session)
            )
        for gone in exhausted:
            log.warning(
                "run %s: restarted %d times without finishing; decision %d now escalates",
                gone.run_id,
                gone.attempts,
                gone.decision_id,
            )
            self.kick.set()
        for attempt in due:
            child = subprocess.Popen(
                [*command, attempt.run_id],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a SIGINT to the daemon is not one to the run
            )
            with store.write() as conn:
                record_pid(conn, attempt, child.pid)
            self.children.append((attempt, child))
            log.info(
                "run %s: resumed from its checkpoint (attempt %d, pid %d, decision %d)",
                attempt.run_id,
                attempt.attempt,
                child.pid,
                attempt.decision_id,
            )

    def resume_command(self) -> list[str]:
        """The argv a resume runs, the run id appended: this Python, this org, this store."""
        words = [sys.executable, "-m", "orgplane", "--org", str(self.config.org_path)]
        if self.config.db:
            words += ["--db", self.config.db]
        return [*words, "run", "resume"]

    def _reap(self, session: Session | None = None) -> None:
        """Note which resumed runs' processes have exited (and let the kernel forget them)."""
        from orgplane.respond.resume import finish_attempt
        from orgplane.store.types import utcnow

        running = []
        for attempt, child in self.children:
            code = child.poll()
            if code is None:
                running.append((attempt, child))
                continue
            log.info("run %s: resume attempt %d exited %d", attempt.run_id, attempt.attempt, code)
            if session is not None:
                with session.store().write() as conn:
                    finish_attempt(conn, attempt, code, utcnow())
        self.children = running


def _guarded(session: Session, step: Step, doing: str) -> None:
    try:
        step(session)
    except Exception as exc:
        if not _expected(exc):
            raise
        log.warning("%s skipped: %s; retrying in 1s", doing, _one_line(exc))
        with contextlib.suppress(Exception):
            session.close()


def _expected(exc: Exception) -> bool:
    """Trouble a daemon outlives: our own errors, the OS's, the database driver's."""
    from orgplane.errors import OrgplaneError
    from orgplane.store.driver_errors import driver_errors

    return isinstance(exc, (OrgplaneError, OSError, *driver_errors()))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_daemon(
    session: Session,
    interval: timedelta,
    *,
    respond: bool = True,
    send: bool = True,
    poll: float = 0.1,
) -> None:
    """``orgplane watch``: check passes every ``interval`` and, unless ``respond`` is False,
    every event decided within a second of its commit, until SIGTERM or SIGINT; with ``send``
    False notifications are queued and never sent (a shadow run of a new org, or a test of what
    a restart sends). The org file is loaded first, so a broken one is bad input now."""
    session.org()
    config = DaemonConfig(session.org_path, session.db, interval, respond=respond, poll=poll)
    config.sender_steps = sender_steps(send=send)
    Daemon(config).run()


def sender_steps(*, send: bool = True) -> list[Step]:
    """The use cases the sender runs each second, and at once after a decision: the follow-ups
    due (re-sends, escalation up the reporting line), the nags of overdue follow-ups of
    learnings, then (with ``send``) every notification due."""
    from orgplane.service.incidents import nag_follow_ups
    from orgplane.service.notifications import deliver_due, follow_up

    steps: list[Step] = [follow_up, nag_follow_ups]
    return [*steps, deliver_due] if send else steps


__all__ = ["Daemon", "DaemonConfig", "Responder", "run_daemon"]
