"""The delegation ledger of a generated month of runs, made through the real APIs (the runner,
hand-offs, manual checkpoints, resolving), against figures this test computes on its own from
the plan it generated."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from orgplane.learn.audit import weekly_audit
from orgplane.learn.delegation import delegation_ledger
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.runs import load_process
from orgplane.runs.handoffs import queue, resolve
from orgplane.runs.holds import Force
from orgplane.runs.manual import record_checkpoint
from orgplane.store.engine import Store
from orgplane.store.tables import handoffs, runs
from orgplane.store.types import utcnow
from tests.runs.test_handoffs import ORG, STAGES


@pytest.fixture
def org(tmp_path: Path) -> Org:
    folder = tmp_path / "org"
    folder.mkdir()
    path = folder / "org.yaml"
    path.write_text(ORG.format(module=STAGES))
    return load_org(path)


@dataclass
class Day:
    """What the test planned for one day's run."""

    age_days: float
    records: int
    unusual: list[int]
    boom: int | None = None
    mode: str | None = None  # how the failed record ended: agent, manual or handoff
    answers: dict[int, float] = field(default_factory=dict)  # hand-off id -> seconds


def plan(seed: int) -> list[Day]:
    rng = random.Random(seed)
    days = []
    for index in range(32):  # a month and a bit: the oldest fall outside the 28-day window
        n = rng.randint(4, 9)
        ids = list(range(1, n + 1))
        unusual = sorted(rng.sample(ids, rng.randint(0, 2)))
        day = Day(age_days=index + 0.5, records=n, unusual=unusual)
        if rng.random() < 0.6:
            day.boom = rng.choice([i for i in ids if i not in unusual])
            day.mode = rng.choice(["agent", "manual", "handoff", "manual"])
        days.append(day)
    return days


def test_a_generated_month_matches_figures_computed_independently(org: Org, store: Store) -> None:
    now = utcnow()
    days = plan(seed=12)
    process = load_process(org, "triage", store, chunk=4)
    answered: dict[int, float] = {}  # hand-off id -> seconds to answer
    handoff_day: dict[int, float] = {}  # hand-off id -> its day's age
    returned: set[int] = set()
    for number, day in enumerate(days):
        batch = [{"id": i} for i in range(1, day.records + 1)]
        for i in day.unusual:
            batch[i - 1]["unusual"] = True
        if day.boom is not None:
            batch[day.boom - 1]["boom"] = True
        status = process.run(batch, batch=f"d{number}")
        run_id = status.run_id
        if day.boom is not None:
            assert status.state == "failed" and status.stopped is not None
            key = str(day.boom)
            if day.mode == "manual":  # a person does the agent's work while the run is failed
                record_checkpoint(store, org, run_id, key, "classify", "done", output={"id": 1})
                record_checkpoint(store, org, run_id, key, "label", "done", output={"ok": 1})
            elif day.mode == "handoff":
                record_checkpoint(
                    store, org, run_id, key, "classify", "handoff", to="lead", reason="crashed"
                )
            status = process.resume(run_id, force=Force("the person finished the record"))
        assert status.state == "finished", (number, status)
        created = now - timedelta(days=day.age_days)
        with store.write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(created_at=created))
        with store.read() as conn:
            items = [i for i in queue(conn, org, "lead", now) if i.run_id == run_id]
        for offset, item in enumerate(items):
            made = created + timedelta(minutes=offset)
            with store.write() as conn:
                conn.execute(
                    update(handoffs).where(handoffs.c.id == item.id).values(created_at=made)
                )
            handoff_day[item.id] = day.age_days
            if (item.id + number) % 3 == 0:
                continue  # left open
            if item.id % 2 and not item.during_failure:
                resolve(store, item.id, "return", output={"id": 0}, output_given=True, by="lead")
                returned.add(item.id)
                process.work(run_id)
            else:
                resolve(store, item.id, "done", by="lead")
            seconds = float((item.id * 7919) % 20000 + 60)
            with store.write() as conn:
                conn.execute(
                    update(handoffs)
                    .where(handoffs.c.id == item.id)
                    .values(resolved_at=made + timedelta(seconds=seconds))
                )
            answered[item.id] = seconds

    since, until = now - timedelta(days=28), now + timedelta(seconds=1)
    with store.read() as conn:
        ledger = delegation_ledger(conn, org, since, until)

    inside = [d for d in days if d.age_days < 28]
    assert len(inside) < len(days)  # the window really leaves some out
    records = sum(d.records for d in inside)
    by_design = sum(len(d.unusual) for d in inside)
    after = sum(1 for d in inside if d.mode in ("manual", "handoff"))
    failures = sum(1 for d in inside if d.boom is not None)
    triage = next(p for p in ledger.processes if p.process_id == "triage")
    assert (triage.runs, triage.records) == (len(inside), records)
    assert triage.handed_off == by_design
    assert triage.person_after_failure == after
    assert triage.agent == records - by_design - after
    assert triage.failures == failures
    assert triage.not_really_delegated == (after / failures >= 0.5)
    assert triage.share(triage.agent) == pytest.approx((records - by_design - after) / records)
    manual = next(p for p in ledger.processes if p.process_id == "manual")
    assert (manual.runs, manual.records, manual.not_really_delegated) == (0, 0, False)

    lead = next(s for s in ledger.seats if s.seat_id == "lead")
    mine = [i for i, age in handoff_day.items() if age < 28]
    answers = [answered[i] for i in mine if i in answered]
    assert lead.received == len(mine) == by_design + sum(1 for d in inside if d.mode == "handoff")
    assert lead.answered == len(answers) and lead.open == len(mine) - len(answers)
    assert lead.returned == len([i for i in mine if i in returned])
    assert lead.median_answer_seconds == pytest.approx(statistics.median(answers))
    assert lead.worst_answer_seconds == pytest.approx(max(answers))
    boss = next(s for s in ledger.seats if s.seat_id == "boss")
    assert (boss.received, boss.median_answer_seconds) == (0, None)


def test_the_threshold_is_the_process_s_own(org: Org, store: Store, tmp_path: Path) -> None:
    process = load_process(org, "triage", store)
    run_id = process.run([{"id": 1, "boom": True}, {"id": 2}], batch="x").run_id
    record_checkpoint(store, org, run_id, "1", "classify", "done", output={"id": 1})
    record_checkpoint(store, org, run_id, "1", "label", "done", output={"ok": 1})
    process.resume(run_id, force=Force("the person finished the record"))
    now = utcnow()
    with store.read() as conn:
        ledger = delegation_ledger(conn, org, now - timedelta(days=1), now + timedelta(seconds=1))
    triage = ledger.processes[0]
    assert (triage.failures, triage.person_after_failure, triage.agent) == (1, 1, 1)
    assert triage.not_really_delegated and ledger.not_really_delegated == ["triage"]
    with store.read() as conn:  # the weekly audit carries the flag
        audit = weekly_audit(conn, org, since=now - timedelta(days=1), until=now + timedelta(1))
    assert [f["process_id"] for f in audit.not_really_delegated or []] == ["triage"]
    assert "1 of its 1 failed records were finished by a person" in str(audit.not_really_delegated)
    lenient = load_org_with(tmp_path, "    not_delegated_at: 100%\n")
    with store.read() as conn:
        again = delegation_ledger(conn, lenient, now - timedelta(days=1), now)
    assert again.processes[0].not_really_delegated  # 1 of 1 is 100%: at the threshold
    strict_free = load_org_with(tmp_path, "    not_delegated_at: 0.999\n")
    with store.read() as conn:
        third = delegation_ledger(conn, strict_free, now - timedelta(days=1), now)
    assert third.processes[0].not_delegated_at == 0.999 and third.processes[0].not_really_delegated


def load_org_with(tmp_path: Path, line: str) -> Org:
    folder = tmp_path / f"variant{abs(hash(line))}"
    folder.mkdir()
    text = ORG.format(module=STAGES).replace(
        "  triage:\n    seat: bot\n", "  triage:\n    seat: bot\n" + line
    )
    (folder / "org.yaml").write_text(text)
    return load_org(folder / "org.yaml")
