"""``seats health`` and ``hearing open|decide|show`` as a person types them: exit 1 when a seat
is on empty or broken, a refused retirement is one line naming each --give (exit 2, nothing
changed), and the --give flags it names, pasted back, retire the seat and print the diff."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from orgplane.service.session import Session
from orgplane.store.types import utcnow
from tests.history import add_run
from tests.surfaces.cli_helpers import orgplane


def test_seats_health_exit_codes_and_json(agency: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    ok = orgplane("--org", str(agency), "--db", db, "seats", "health")
    assert ok.returncode == 0, ok.stderr
    assert "retired" in ok.stdout
    with Session.open(agency, db) as session:
        for day in (3, 2, 1):
            at = utcnow() - timedelta(days=day)
            add_run(session.store(), "nick-prospecting", "nick", f"b{day}", at, [])
    found = orgplane("--org", str(agency), "--db", db, "seats", "health", "--json")
    assert found.returncode == 1
    data = json.loads(found.stdout)
    nick = next(s for s in data["seats"] if s["seat"] == "nick")
    assert nick["status"] == "on_empty" and nick["empty"][0]["kind"] == "empty_runs"
    text = orgplane("--org", str(agency), "--db", db, "seats", "health")
    assert text.returncode == 1 and "on empty" in text.stdout
    assert "hearing open nick" in text.stdout


def test_a_refusal_names_the_gives_that_retire_the_seat(agency: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    base = ("--org", str(agency), "--db", db)
    opened = orgplane(*base, "hearing", "open", "dash")
    assert opened.returncode == 0, opened.stderr
    assert "hearing 1 of seat dash: open" in opened.stdout
    before = agency.read_bytes()
    refused = orgplane(*base, "hearing", "decide", "dash", "--retire")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "--give output:dash-analysis=SEAT" in refused.stderr
    assert agency.read_bytes() == before
    # Paste the flags the refusal lists, naming the seats that take the work.
    missing = refused.stderr.split("all the --give flags missing: ")[1].split()
    flags = [
        re.sub(r"=SEAT$", "=crystal" if "output:" in flag else "=dan", flag) for flag in missing
    ]
    done = orgplane(*base, "hearing", "decide", "dash", "--retire", *flags, "--reason", "idle")
    assert done.returncode == 0, done.stderr
    assert "-    producer: dash" in done.stdout and "+    producer: crystal" in done.stdout
    assert "seat dash retired (hearing 1)" in done.stdout
    shown = orgplane(*base, "hearing", "show", "dash", "--json")
    assert json.loads(shown.stdout)["verdict"]["outcome"] == "retire"
    health = orgplane(*base, "seats", "health", "--json")
    dash = next(s for s in json.loads(health.stdout)["seats"] if s["seat"] == "dash")
    assert dash["status"] == "retired"
    again = orgplane(*base, "hearing", "open", "dash")
    assert again.returncode == 2 and "already retired" in again.stderr


def test_keep_and_bad_gives(agency: Path, tmp_path: Path) -> None:
    base = ("--org", str(agency), "--db", f"sqlite:///{tmp_path / 'h.db'}")
    orgplane(*base, "hearing", "open", "amanda")
    bad = orgplane(*base, "hearing", "decide", "amanda", "--retire", "--give", "inbound-calls")
    assert bad.returncode == 2 and "is not KEY=SEAT" in bad.stderr
    nobody = orgplane(
        *base, "hearing", "decide", "amanda", "--retire", "--give", "inbound-calls=[red]x"
    )
    assert nobody.returncode == 2 and "[red]x is not a seat" in nobody.stderr
    kept = orgplane(*base, "hearing", "decide", "amanda", "--keep", "--reason", "[b]busy[/b]")
    assert kept.returncode == 0 and "[b]busy[/b]" in kept.stdout
    unknown = orgplane(*base, "hearing", "show", "nobody")
    assert unknown.returncode == 2
