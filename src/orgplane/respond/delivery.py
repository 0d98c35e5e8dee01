"""Sending one message to its targets through Apprise 2, each with its own timeout, in parallel.

Nothing here touches the store: the caller claims rows, sends outside any transaction and
records what :func:`send` returns. Every target gets its own Apprise object and thread, so one
that never answers costs its own timeout and delays no other target. ``${NAME}`` in a URL is
read from the environment here, at send time; the URL recorded is the one written in org.yaml
(variables unexpanded) with any password hidden, so secrets never reach the store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from orgplane.org.models import url_variables
from orgplane.org.reach import redact

if TYPE_CHECKING:
    from apprise import NotifyResult

DEFAULT_TIMEOUT = 5.0
"""Seconds a target may take, connecting and answering together, before it counts as timed
out (Apprise's connect and read timeouts and the call's own deadline)."""

MAX_WORKERS = 16
"""Targets sent at once: enough that a few unreachable ones never queue the others."""


@dataclass(frozen=True)
class Job:
    """One message to send: ``key`` identifies it to the caller (a notification id)."""

    key: int
    targets: tuple[str, ...]
    title: str
    body: str


@dataclass(frozen=True)
class TargetResult:
    """What one target did with one message: ``status`` is ``success``, ``failure``,
    ``timeout`` or ``error`` (never sent: a missing variable, a URL Apprise cannot use)."""

    target: str
    service: str | None
    status: str
    detail: str | None
    duration_ms: int
    started_at: datetime
    finished_at: datetime


class MissingVariable(Exception):
    """A ``${NAME}`` in a URL whose variable the environment does not set."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def expand(url: str, environ: Mapping[str, str] | None = None) -> str:
    """``url`` with each ``${NAME}`` replaced by the environment's value; MissingVariable
    naming the first variable that is not set."""
    env = os.environ if environ is None else environ
    for name in url_variables(url):
        if name not in env:
            raise MissingVariable(name)
        url = url.replace(f"${{{name}}}", env[name])
    return url


def with_timeouts(url: str, seconds: float) -> str:
    """``url`` with Apprise's connect (``cto``) and read (``rto``) timeouts set, unless the URL
    sets them itself."""
    query = {key for key, _ in parse_qsl(urlsplit(url).query)}
    extra = [f"{arg}={seconds:g}" for arg in ("cto", "rto") if arg not in query]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def warm_up() -> None:
    """Import Apprise and load its plugins now (about 1.5 s on these machines, more under
    load), so the first message a daemon sends is not late by that much."""
    from apprise.manager_plugins import NotificationManager

    NotificationManager().schemas()  # type: ignore[no-untyped-call]


def send(
    jobs: Iterable[Job],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    on_done: Callable[[Job, list[TargetResult]], None] | None = None,
) -> dict[int, list[TargetResult]]:
    """Send every job to each of its targets at once (a thread per target, at most
    :data:`MAX_WORKERS`), each bounded by ``timeout``. ``on_done`` is called, in this thread,
    as soon as all targets of a job have answered, so a slow target holds up only its own job.
    Returns each job's results in target order."""
    jobs = list(jobs)
    results: dict[int, list[TargetResult | None]] = {j.key: [None] * len(j.targets) for j in jobs}
    left = {j.key: len(j.targets) for j in jobs}
    by_key = {j.key: j for j in jobs}
    for job in jobs:
        if not job.targets and on_done is not None:
            on_done(job, [])
    work = [(job, index) for job in jobs for index in range(len(job.targets))]
    if not work:
        return {key: [] for key in results}
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(work))) as pool:
        futures: dict[Future[TargetResult], tuple[int, int]] = {
            pool.submit(send_one, job.targets[i], job.title, job.body, timeout, environ): (
                job.key,
                i,
            )
            for job, i in work
        }
        for future in as_completed(futures):
            key, index = futures[future]
            results[key][index] = future.result()
            left[key] -= 1
            if left[key] == 0 and on_done is not None:
                on_done(by_key[key], _done(results[key]))
    return {key: _done(found) for key, found in results.items()}


def _done(found: list[TargetResult | None]) -> list[TargetResult]:
    return [r for r in found if r is not None]


def send_one(
    template: str,
    title: str,
    body: str,
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
) -> TargetResult:
    """Send one message to one target URL (as written in org.yaml); never raises."""
    shown = redact(template)
    started, clock = datetime.now(UTC), time.perf_counter()

    def ended(status: str, detail: str | None, service: str | None = None) -> TargetResult:
        elapsed = time.perf_counter() - clock
        return TargetResult(
            target=shown,
            service=service,
            status=status,
            detail=detail,
            duration_ms=round(elapsed * 1000),
            started_at=started,
            finished_at=started + timedelta(seconds=elapsed),
        )

    try:
        url = with_timeouts(expand(template, environ), timeout)
    except MissingVariable as missing:
        return ended(
            "error",
            f"environment variable {missing.name} is not set; export {missing.name} where "
            "orgplane sends notifications (the URL reads ${" + missing.name + "})",
        )
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        return ended("error", f"Apprise cannot use {shown!r}; run 'orgplane validate'")
    sender = apprise.Apprise()
    sender.add(service)
    try:
        outcome = sender.notify(body=body, title=title, timeout=timeout)
    except Exception as exc:  # a plugin's own bug must not lose the row: record it
        return ended("error", f"{type(exc).__name__}: {exc}", service.service_name)
    per_target = list(outcome)
    if not per_target:
        return ended("error", f"Apprise sent nothing ({outcome.status.name})")
    return ended(_status(per_target[0], timeout), _detail(per_target[0]), per_target[0].name)


def _status(result: NotifyResult, timeout: float) -> str:
    from apprise import AppriseResultStatus

    if result.status == AppriseResultStatus.SUCCESS:
        return "success"
    if result.status == AppriseResultStatus.TIMEOUT or result.elapsed >= timeout * 0.95:
        return "timeout"  # a read timeout inside the plugin is reported as a failure
    return "failure"


def _detail(result: NotifyResult) -> str | None:
    messages = [entry.message for entry in result.logs()]
    return "; ".join(messages)[:2000] or None


def apprise_understands(url: str) -> bool:
    """True when Apprise can build a sender from ``url`` (parsing only, nothing is sent)."""
    import apprise

    return apprise.Apprise.instantiate(url) is not None


def known_scheme(scheme: str) -> bool:
    """True when ``scheme`` (``json``, ``mailto``, ...) names a service Apprise has."""
    from apprise.manager_plugins import NotificationManager

    schemes: list[str] = NotificationManager().schemas()  # type: ignore[no-untyped-call]
    return scheme.lower() in schemes
