"""Fixtures shared by every suite: real org files, and real databases on both backends.

PostgreSQL is the one at ``ORGPLANE_TEST_PG`` (default 127.0.0.1:5432, database ``test``). Each
test gets its own schema, dropped afterwards. When CI=true an unreachable PostgreSQL fails the
run at once instead of silently skipping half the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.org.scaffold import write_example
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import sync_org

PG_URL = os.environ.get("ORGPLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


PG_REACHABLE = _pg_reachable()


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") == "true" and not PG_REACHABLE:
        pytest.exit(
            f"PostgreSQL is required when CI=true but {PG_URL} is not reachable; "
            "start it or set ORGPLANE_TEST_PG",
            returncode=3,
        )


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema of this test's own."""
    if not PG_REACHABLE:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orgplane.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def agency(tmp_path: Path) -> Path:
    """A fresh copy of the shipped agency example; returns its org.yaml."""
    folder = tmp_path / "agency"
    return write_example(folder, "agency")


@pytest.fixture
def example_org_text() -> str:
    source = Path(__file__).parents[1] / "src" / "orgplane" / "examples" / "agency" / "org.yaml"
    return source.read_text()


@pytest.fixture
def org(agency: Path) -> Org:
    """The declared org the ``store`` fixture syncs; suites override it with their own."""
    return load_org(agency)


@pytest.fixture
def store(db_url: str, org: Org) -> Iterator[Store]:
    """A migrated store with ``org`` synced into it, on each backend."""
    store = open_store(db_url)
    sync_org(store, org)
    yield store
    store.dispose()
