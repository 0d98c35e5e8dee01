"""Use cases of silent-failure detection: check, watch, publish, heartbeat, metric push, scorecard."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from orgplane.errors import UsageError
from orgplane.service.models import Result
from orgplane.service.permissions import require_own
from orgplane.service.session import Session


class FindingView(Result):
    """The state of one watched subject at ``checked_at``, with the reason in words."""

    subject_kind: str
    subject_id: str
    seat: str | None
    status: str
    ok: bool
    reason: str
    message: str
    source: str | None
    data_at: datetime | None
    age_seconds: int | None
    age: str | None
    last_good_at: datetime | None
    changed_at: datetime
    deadline: datetime | None
    checked_at: datetime
    details: dict[str, Any]


class CheckResult(Result):
    """One pass over every output, schedule, metric and heartbeat (``check --json``)."""

    ok: bool
    checked_at: datetime
    counts: dict[str, int]
    findings: list[FindingView]
    transitions_recorded: int


def check(session: Session, *, now: datetime | None = None) -> CheckResult:
    """Run one check pass and record each transition once as a failure event."""
    from orgplane.watch.check import check_once

    report = check_once(session.store(), session.org(), now)
    return CheckResult.model_validate(report.as_dict())


def watch(session: Session, interval: str, *, respond: bool = True, send: bool = True) -> None:
    """Run check passes every ``interval`` (e.g. ``30s``) until SIGTERM or SIGINT, and with
    ``respond`` the rest of the daemon (:mod:`orgplane.service.daemon`): every event decided
    within a second, notifications sent (queued only, with ``send`` False), dead runs resumed.

    The org file is loaded first, so a missing or broken one is bad input now, not a log line.
    """
    from orgplane.service.daemon import run_daemon

    every = _duration(interval, "--interval")
    run_daemon(session, every, respond=respond, send=send)


class Published(Result):
    """What orgplane made of a published content."""

    output: str
    size: int
    finding: FindingView


def publish(
    session: Session,
    output_id: str,
    source: bytes | IO[bytes] | Path,
    *,
    actor: str | None = None,
) -> Published:
    """Store content for ``output_id`` and classify it at once.

    ``source`` is the content, a binary stream or a file; at most the output's ``max_bytes`` plus
    one byte are read, so an oversized content is refused without being held. NotFoundError for
    an undeclared output; UsageError for content over the limit or a file that cannot be read;
    PermissionDenied when ``actor`` is not the output's producer.
    """
    from orgplane.org.lookup import find_declared
    from orgplane.store.types import utcnow
    from orgplane.watch.publish import publish as publish_content

    org = session.org()
    declared = find_declared(org.outputs, "output", output_id)
    require_own(org, actor, declared.producer, f"output {output_id}")
    limit = declared.max_bytes + 1
    content = _read_bounded(source, limit)
    finding = publish_content(session.store(), org, output_id, content, utcnow())
    return Published(
        output=output_id, size=len(content), finding=FindingView.model_validate(finding.as_dict())
    )


def _read_bounded(source: bytes | IO[bytes] | Path, limit: int) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, Path):
        try:
            with source.open("rb") as stream:
                return stream.read(limit)
        except OSError as exc:
            raise UsageError(f"--file {source}: cannot read it: {exc.strerror or exc}") from None
    return source.read(limit)


class Heartbeat(Result):
    """A heartbeat stored."""

    name: str
    kind: Literal["start", "success", "fail"]
    at: datetime
    note: str | None


def heartbeat(
    session: Session,
    name: str,
    *,
    start: bool = False,
    fail: bool = False,
    note: str | None = None,
    actor: str | None = None,
) -> Heartbeat:
    """Store that the job behind ``name`` started, succeeded (the default) or failed
    (PermissionDenied when ``actor`` is not the seat behind the job)."""
    from orgplane.store.types import utcnow
    from orgplane.watch.heartbeats import PingKind, heartbeat_seat, record_heartbeat

    if actor is not None:
        require_own(session.org(), actor, heartbeat_seat(session.org(), name), f"job {name}")

    if start and fail:
        raise UsageError("--start and --fail exclude each other; give one (or neither for success)")
    kind: PingKind = "start" if start else "fail" if fail else "success"
    at = utcnow()
    record_heartbeat(session.store(), session.org(), name, kind, at, note)
    return Heartbeat(name=name, kind=kind, at=at, note=note)


class MetricPushed(Result):
    """One metric value stored."""

    metric: str
    value: float
    at: datetime


def push_metric(
    session: Session,
    metric_id: str,
    value: float,
    *,
    at: str | None = None,
    actor: str | None = None,
) -> MetricPushed:
    """Store one value of ``metric_id`` measured ``at`` (ISO 8601 with an offset; default now).

    UsageError for a value that is not a finite number, a naive, unparseable or future time;
    PermissionDenied when ``actor`` is not the metric's owner seat.
    """
    if actor is not None:
        from orgplane.org.lookup import find_declared

        org = session.org()
        require_own(
            org, actor, find_declared(org.metrics, "metric", metric_id).owner, f"metric {metric_id}"
        )
    from orgplane.store.types import utcnow
    from orgplane.watch.metrics import push_metric as store_value
    from orgplane.watch.timestamps import parse_cli_time

    now = utcnow()
    try:
        measured = parse_cli_time(at, now) if at is not None else now
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store_value(session.store(), session.org(), metric_id, value, measured, now)
    return MetricPushed(metric=metric_id, value=value, at=measured)


class ScorecardRow(Result):
    """One metric on the scorecard."""

    metric: str
    description: str | None
    owner: str
    value: float | None
    unit: str | None
    target: float | None
    direction: str
    met: bool | None
    last_clean_push: datetime | None
    status: str
    stale: bool
    reason: str
    summary: str
    slots: list[dict[str, Any]]


class Scorecard(Result):
    """Every metric's value, target, owner and last clean push; ``ok`` when none is stale."""

    ok: bool
    at: datetime
    metrics: list[ScorecardRow]


def scorecard(session: Session, *, now: datetime | None = None) -> Scorecard:
    """The scorecard now, read from the store (nothing is written)."""
    from orgplane.store.types import utcnow
    from orgplane.watch.metrics import scorecard as read_scorecard

    at = now or utcnow()
    rows = [
        ScorecardRow.model_validate(r) for r in read_scorecard(session.store(), session.org(), at)
    ]
    return Scorecard(ok=not any(r.stale for r in rows), at=at, metrics=rows)


def _duration(text: str, option: str) -> Any:
    from orgplane.org.durations import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if value.total_seconds() <= 0:
        raise UsageError(f"{option} {text!r}: give a positive duration, e.g. 30s")
    return value


class Pruned(Result):
    """What a prune deleted, per table; history older than ``cutoff`` is gone."""

    retention: str
    cutoff: datetime
    pings: int
    metric_values: int
    watch_transitions: int
    publishes: int
    gate_answers: int
    total: int


def prune(session: Session, *, now: datetime | None = None) -> Pruned:
    """Delete history older than the org's ``retention`` (and publishes past the last few of
    each output) in short transactions; never what a current status depends on."""
    from orgplane.org.durations import format_duration
    from orgplane.store.types import utcnow
    from orgplane.watch.prune import prune as prune_history

    org = session.org()
    report = prune_history(session.store(), org, now or utcnow())
    return Pruned(
        retention=format_duration(org.retention), total=report.total, **report.model_dump()
    )
