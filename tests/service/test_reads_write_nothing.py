"""A read command on an unchanged org writes nothing to the store, on both backends: no table
changes, and no write transaction is even begun (the org is synced only when it changed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from orgplane.store.engine import open_store
from orgplane.store.tables import metadata
from tests.surfaces.cli_helpers import orgplane

READS = [
    ["validate"],
    ["chart", "--json"],
    ["audit", "readiness"],
    ["audit", "weekly", "--json"],
    ["run", "status", "pepper-triage:r1"],
    ["run", "list", "--json"],
    ["scorecard", "--json"],
    ["incidents", "--json"],
    ["follow-ups"],
]


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    store = open_store(url, migrate=False)
    try:
        with store.read() as conn:
            return {
                t.name: sorted((tuple(r) for r in conn.execute(select(t)).all()), key=repr)
                for t in metadata.sorted_tables
            }
    finally:
        store.dispose()


@contextmanager
def write_transactions() -> Iterator[list[str]]:
    """Each write transaction begun through SQLAlchemy inside the block."""
    begun: list[str] = []

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("orgplane_write"):
            begun.append(conn.engine.url.render_as_string())

    event.listen(Engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(Engine, "begin", on_begin)


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_writes_nothing(agency: Path, db_url: str, tmp_path: Path, args: list[str]) -> None:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}]))
    base = ["--org", str(agency), "--db", db_url]
    first = orgplane(*base, "run", "start", "pepper-triage", str(batch), "--batch", "r1")
    assert first.returncode == 0, first.stderr
    before = dump(db_url)
    sqlite_file = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite") else None
    file_before = sqlite_file.read_bytes() if sqlite_file else b""

    with write_transactions() as begun:
        result = orgplane(*base, *args)
    assert result.returncode in (0, 1), result.stderr
    assert begun == [], f"'orgplane {' '.join(args)}' began a write transaction"
    assert dump(db_url) == before
    if sqlite_file:
        assert sqlite_file.read_bytes() == file_before


def test_an_edited_org_is_synced_by_the_next_command(agency: Path, db_url: str) -> None:
    base = ["--org", str(agency), "--db", db_url]
    assert orgplane(*base, "scorecard").returncode in (0, 1)
    text = agency.read_text()
    assert "title: Founder and CEO" in text
    agency.write_text(text.replace("title: Founder and CEO", "title: Founder & CEO"))
    with write_transactions() as begun:
        assert orgplane(*base, "scorecard").returncode in (0, 1)
    assert begun, "a changed org must be synced"
    titles = {row[0]: row[1] for row in dump(db_url)["seats"]}
    assert titles["ceo"] == "Founder & CEO"
