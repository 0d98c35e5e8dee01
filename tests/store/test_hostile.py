"""Hostile database URLs and store files: each is a typed error with one line, in bounded time,
with no traceback and no file created where the user did not ask for one."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from orgplane.errors import (
    DatabaseUrlError,
    NotADatabase,
    OrgplaneError,
    StoreCorrupt,
    StoreError,
    StoreUnreachable,
)
from orgplane.store.engine import open_store
from tests.store.bounded import within

is_root = os.geteuid() == 0


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def refused(
    url: str, folder: Path, kind: type[OrgplaneError] | tuple[type[OrgplaneError], ...]
) -> str:
    """Open ``url``; it must raise ``kind`` with one line and leave ``folder`` as it was."""
    before = listing(folder)
    with pytest.raises(kind) as caught:
        open_store(url).dispose()
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message
    assert listing(folder) == before, "a file was created where nobody asked for one"
    return message


def test_a_folder_given_as_the_store(tmp_path: Path) -> None:
    (tmp_path / "stores").mkdir()
    message = refused(f"sqlite:///{tmp_path / 'stores'}", tmp_path, DatabaseUrlError)
    assert "is a folder; name a file inside it" in message


def test_a_store_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    message = refused(f"sqlite:///{tmp_path / 'nope' / 'orgplane.db'}", tmp_path, DatabaseUrlError)
    assert "does not exist; create it first" in message


def test_a_store_under_a_file_as_if_it_were_a_folder(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    message = refused(f"sqlite:///{tmp_path / 'plain' / 'orgplane.db'}", tmp_path, DatabaseUrlError)
    assert "is not a folder" in message


def test_a_zero_byte_file_is_not_taken_for_a_new_store(tmp_path: Path) -> None:
    empty = tmp_path / "orgplane.db"
    empty.touch()
    message = refused(f"sqlite:///{empty}", tmp_path, NotADatabase)
    assert "empty file (0 bytes)" in message
    assert empty.stat().st_size == 0


def test_a_truncated_store(tmp_path: Path) -> None:
    whole = tmp_path / "whole.db"
    open_store(f"sqlite:///{whole}").dispose()
    truncated = tmp_path / "orgplane.db"
    truncated.write_bytes(whole.read_bytes()[: 4096 * 3 + 100])
    whole.unlink()
    message = refused(f"sqlite:///{truncated}", tmp_path, StoreError)
    assert "SQLite database" in message


def test_a_file_of_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "orgplane.db"
    junk.write_bytes(bytes(range(256)) * 64)
    assert "not a SQLite database" in refused(f"sqlite:///{junk}", tmp_path, NotADatabase)


@pytest.mark.skipif(is_root, reason="root reads any file: permissions cannot be tested as root")
def test_a_store_without_permission(tmp_path: Path) -> None:
    locked = tmp_path / "orgplane.db"
    open_store(f"sqlite:///{locked}").dispose()
    locked.chmod(0)
    try:
        refused(f"sqlite:///{locked}", tmp_path, StoreUnreachable)
    finally:
        locked.chmod(0o600)


def test_a_store_that_is_only_its_header(tmp_path: Path) -> None:
    """The first 100 bytes of a real store: SQLite's header, and no pages behind it."""
    whole = tmp_path / "whole.db"
    with sqlite3.connect(whole) as conn:
        conn.execute("CREATE TABLE t(x)")
    head = tmp_path / "orgplane.db"
    head.write_bytes(whole.read_bytes()[:100])
    whole.unlink()
    refused(f"sqlite:///{head}", tmp_path, (StoreCorrupt, NotADatabase))


def test_a_fifo_or_a_device_is_refused_and_never_read(tmp_path: Path) -> None:
    """A named pipe gets a plain "disk I/O error" from SQLite, /dev/null swallows writes: both are
    refused by name, in bounded time."""
    fifo = tmp_path / "orgplane.db"
    os.mkfifo(fifo)
    error = within(30, lambda: open_store(f"sqlite:///{fifo}"))
    assert isinstance(error, DatabaseUrlError) and "not a regular file" in str(error)
    with pytest.raises(DatabaseUrlError, match="not a regular file"):
        open_store("sqlite:////dev/null")


def test_a_folder_nobody_may_create_files_in(tmp_path: Path) -> None:
    """/proc/self exists and refuses new files even to root: SQLite cannot open the store."""
    message = refused("sqlite:////proc/self/orgplane.db", tmp_path, StoreUnreachable)
    assert "cannot open or write the file" in message


@pytest.mark.parametrize(
    "url",
    [
        "",
        "sqlite://",
        "sqlite:///",
        "sqlite:///:nope:?x=1",
        "oracle://scott@h/orcl",
        "mongodb://h/db",
        "postgresql://",
        "postgresql://127.0.0.1",
        "postgresql:///test",
        "sqlite:///caf\u00e9\x07.db",
        "sqlite:///\u202eevil.db",
        "sqlite:///tab\there.db",
    ],
)
def test_hostile_urls_are_refused_before_anything_is_touched(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative path would land here
    refused(url, tmp_path, DatabaseUrlError)


def test_a_unicode_path_is_a_store_where_it_says(tmp_path: Path) -> None:
    folder = tmp_path / "d\u00f6ner \u6771\u4eac"
    folder.mkdir()
    open_store(f"sqlite:///{folder / 'orgplane.db'}").dispose()
    assert (folder / "orgplane.db").stat().st_size > 0


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "postgresql://", "postgresql://127.0.0.1:1/test", "{dir}", "{textfile}"],
)
def test_the_cli_says_one_line_and_exits_2(url: str, agency: Path, tmp_path: Path) -> None:
    """Through the real command: exit 2, one line on stderr, no traceback, nothing created."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 50)
    url = url.format(dir=f"sqlite:///{tmp_path}", textfile=f"sqlite:///{notes}")
    before = listing(agency.parent)
    env = {k: v for k, v in os.environ.items() if k != "ORGPLANE_DB"}
    result = subprocess.run(
        [sys.executable, "-m", "orgplane", "--org", str(agency), "--db", url, "check"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert listing(agency.parent) == before
