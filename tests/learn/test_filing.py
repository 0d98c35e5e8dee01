"""Filing decided events into incidents: one open incident per signature (seat, subject, kind),
repeats counted, a recovery marks it recovered without closing it, a closed one reopens on
recurrence with its learning marked as not having held, and filing twice changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from orgplane.learn.filing import file_decided, file_pending
from orgplane.learn.incidents import get_incident, incident_times, list_incidents, steps_of
from orgplane.respond.decisions import decide_pending as decide_batch
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.decisions import decide_pending
from orgplane.service.session import Session
from orgplane.store.tables import events, incidents

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(agency: Path, db_url: str) -> Iterator[Session]:
    with Session.open(agency, db_url) as session:
        yield session


def _event(session: Session, kind: str, subject: str, at: datetime, **extra: object) -> int:
    with session.store().write() as conn:
        event_id = record_event(
            conn,
            FailureEvent(
                kind=kind,  # type: ignore[arg-type]
                occurred_at=at,
                subject_kind="output",
                subject_id=subject,
                seat_id="dash",
                message=f"{subject} is {kind}",
                **extra,  # type: ignore[arg-type]
            ),
        )
    assert event_id is not None
    return event_id


def _incidents(session: Session) -> list[dict[str, object]]:
    with session.store().read() as conn:
        return list(reversed(list_incidents(conn)))


def test_events_of_one_signature_make_one_incident_with_a_timeline(session: Session) -> None:
    first = _event(session, "stale", "dash-analysis", T0)
    _event(session, "stale", "dash-analysis", T0 + timedelta(minutes=5))
    _event(session, "corrupt", "dash-analysis", T0 + timedelta(minutes=6))
    decide_pending(session)
    stale, corrupt = _incidents(session)
    assert (stale["kind"], stale["events"], stale["status"]) == ("stale", 2, "open")
    assert (corrupt["kind"], corrupt["events"]) == ("corrupt", 1)
    assert stale["seat_id"] == "dash" and stale["first_event_id"] == first
    assert stale["tier"] == "flag" and stale["action"] == "skip_and_flag"
    with session.store().read() as conn:
        steps = [s["step"] for s in steps_of(conn, int(str(stale["id"])))]
        linked = conn.execute(select(events.c.incident_id).order_by(events.c.id)).scalars().all()
    assert steps == ["detected", "decided"]
    assert linked == [stale["id"], stale["id"], corrupt["id"]]
    times = incident_times(stale)
    # occurred at T0 (in the past), stored now: detection took as long as the event was late
    assert times["detect"] is not None and times["detect"] > timedelta(days=1)
    assert times["decide"] is not None and times["decide"] < timedelta(minutes=1)
    assert times["recover"] is None


def test_a_recovery_marks_the_incident_recovered_and_leaves_it_open(session: Session) -> None:
    _event(session, "stale", "dash-analysis", T0)
    decide_pending(session)
    _event(session, "recovered", "dash-analysis", T0 + timedelta(minutes=30))
    decide_pending(session)
    [incident] = _incidents(session)
    assert incident["status"] == "open"
    assert incident["recovered_at"] == T0 + timedelta(minutes=30)
    assert incident_times(incident)["recover"] == timedelta(minutes=30)
    # It fails again before anyone closed it: the same incident, failing again.
    _event(session, "stale", "dash-analysis", T0 + timedelta(hours=2))
    decide_pending(session)
    [incident] = _incidents(session)
    assert incident["recovered_at"] is None and incident["events"] == 2
    with session.store().read() as conn:
        steps = [s["step"] for s in steps_of(conn, int(str(incident["id"])))]
    assert steps == ["detected", "decided", "recovered", "repeated"]


def test_one_batch_across_a_recovery_files_in_event_order(session: Session) -> None:
    _event(session, "stale", "dash-analysis", T0)
    _event(session, "recovered", "dash-analysis", T0 + timedelta(minutes=1))
    _event(session, "stale", "dash-analysis", T0 + timedelta(minutes=2))
    decide_pending(session)
    [incident] = _incidents(session)
    assert incident["events"] == 2 and incident["recovered_at"] is None


def test_a_recurrence_reopens_a_closed_incident_and_its_learning_did_not_hold(
    session: Session,
) -> None:
    _event(session, "stale", "dash-analysis", T0)
    decide_pending(session)
    [incident] = _incidents(session)
    with session.store().write() as conn:  # closed as the close gate would close it
        conn.execute(
            update(incidents)
            .where(incidents.c.id == incident["id"])
            .values(status="closed", open_signature=None, learning="raise max_age")
        )
    _event(session, "stale", "dash-analysis", T0 + timedelta(days=1))
    decide_pending(session)
    [again] = _incidents(session)
    assert again["id"] == incident["id"]
    assert (again["status"], again["reopened"], again["learning_held"]) == ("open", 1, False)
    with session.store().read() as conn:
        steps = steps_of(conn, int(str(again["id"])))
    assert [s["step"] for s in steps][-2:] == ["reopened", "decided"]
    assert steps[-2]["detail"]["learning"] == "raise max_age"


def test_filing_twice_changes_nothing(session: Session) -> None:
    event_id = _event(session, "stale", "dash-analysis", T0)
    decide_pending(session)
    with session.store().write() as conn:
        assert file_decided(conn, [event_id]) == []
        row = get_incident(conn, 1)
    assert row["events"] == 1


def test_two_deciders_file_one_incident_a_signature(agency: Path, db_url: str) -> None:
    """Two deciders on one store, racing over events of a few signatures, each filing behind
    its deciding: every event is filed once, and each signature has one incident counting all
    of its events."""
    subjects = [f"dash-analysis-{i % 5}" for i in range(100)]
    with Session.open(agency, db_url) as setup:
        for n, subject in enumerate(subjects):
            _event(setup, "stale", subject, T0 + timedelta(seconds=n))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def decide() -> None:
        try:
            with Session.open(agency, db_url) as session:
                org, store = session.org(), session.store()
                barrier.wait()
                while True:
                    with store.write() as conn:
                        decided = decide_batch(conn, org, limit=7, command=str)
                    with store.write() as conn:
                        filed = file_pending(conn, limit=5)
                    if not decided and not filed:
                        return
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session.open(agency, db_url) as session:
        rows = _incidents(session)
        with session.store().read() as conn:
            unfiled = conn.execute(select(events.c.id).where(events.c.incident_id.is_(None))).all()
    assert unfiled == []
    assert sorted(str(r["subject_id"]) for r in rows) == sorted(set(subjects))
    assert sum(int(str(r["events"])) for r in rows) == len(subjects)


def test_filing_follows_deciding_in_event_order_and_catches_up(session: Session) -> None:
    """Decided but not filed (a decider that died before filing): the next filing pass files
    it; filing stops at the first event not decided yet, and a recovery that touched nothing
    does not hold it up."""
    org, store = session.org(), session.store()
    _event(session, "recovered", "ccm-stats", T0)  # nothing open: touches no incident
    _event(session, "stale", "dash-analysis", T0 + timedelta(minutes=1))
    with store.write() as conn:
        decide_batch(conn, org, command=str)  # decided, then "died": nothing filed
    assert _incidents(session) == []
    late = _event(session, "corrupt", "dash-analysis", T0 + timedelta(minutes=2))
    _event(session, "stale", "ccm-stats", T0 + timedelta(minutes=3))
    with store.write() as conn:  # the corrupt one is not decided yet: filing stops before it
        filed = file_pending(conn)
    assert [f.effect for f in filed] == ["opened"]
    assert [i["kind"] for i in _incidents(session)] == ["stale"]
    with store.write() as conn:
        decide_batch(conn, org, command=str)
    with store.write() as conn:
        file_pending(conn)
        assert file_pending(conn) == []
    kinds = [(i["subject_id"], i["kind"]) for i in _incidents(session)]
    assert kinds == [
        ("dash-analysis", "stale"),
        ("dash-analysis", "corrupt"),
        ("ccm-stats", "stale"),
    ]
    with store.read() as conn:
        row = conn.execute(select(events.c.incident_id).where(events.c.id == late)).scalar()
    assert row == _incidents(session)[1]["id"]
