"""Atomic file replacement keeps the file's mode and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orgplane.errors import OrgFileError
from orgplane.files import STALE_AFTER_SECONDS, remove_stale_temporaries, write_atomically
from orgplane.org.edit import add_handled_error
from orgplane.org.loader import load_org
from orgplane.org.models import HandledError
from orgplane.org.scaffold import write_example


def test_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["org.yaml"]


def test_new_file_gets_the_umask_mode_and_its_folder(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "state" / "dash.json"
        write_atomically(path, b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_bytes() == b"{}"


KILLED_EDIT = """
import os, signal, sys
from pathlib import Path
from orgplane.org.edit import add_handled_error
from orgplane.org.models import HandledError

def killed_before_rename(source, target):  # the process dies with its temporary file written
    assert Path(source).read_bytes().startswith(b"#")
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = killed_before_rename
handled = HandledError(match="LM-500", action="retry", message="LeadMagic is down")
add_handled_error(Path(sys.argv[1]), "nick-prospecting", handled)
"""


def kill_an_edit_before_its_rename(org_file: Path) -> Path:
    """Run a real edit in a subprocess that SIGKILLs itself between the temp file and the
    rename; return the temporary file it left."""
    done = subprocess.run(
        [sys.executable, "-c", KILLED_EDIT, str(org_file)], capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    (left,) = [p for p in org_file.parent.iterdir() if p.name.startswith(".org.yaml.")]
    return left


def test_an_edit_killed_before_its_rename_is_cleaned_up_by_the_next_load(tmp_path: Path) -> None:
    org_file = write_example(tmp_path)
    before = org_file.read_bytes()
    left = kill_an_edit_before_its_rename(org_file)
    assert org_file.read_bytes() == before  # the file is whole: the old one
    assert b"LM-500" in left.read_bytes()
    load_org(org_file)
    assert not left.exists()
    assert org_file.read_bytes() == before


def test_an_edit_killed_before_its_rename_is_cleaned_up_by_the_next_edit(tmp_path: Path) -> None:
    org_file = write_example(tmp_path)
    left = kill_an_edit_before_its_rename(org_file)
    handled = HandledError(match="LM-501", action="skip_record", message="Gone for good")
    add_handled_error(org_file, "nick-prospecting", handled)
    assert not left.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".org.yaml")] == []
    assert "LM-501" in org_file.read_text()


def test_a_live_writers_temporary_is_kept_and_an_old_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("name: x\n")
    live = tmp_path / f".org.yaml.{os.getpid()}.0123abcd"
    live.write_text("half")
    old = tmp_path / f".org.yaml.{os.getpid()}.fedc4321"
    old.write_text("half")
    an_hour_ago = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(old, (an_hour_ago, an_hour_ago))
    other = tmp_path / ".other.yaml.1.0123abcd"  # another file's temporary: not ours
    other.write_text("x")
    assert remove_stale_temporaries(path) == [old]
    assert live.exists() and other.exists()


def test_an_edit_of_a_broken_org_file_is_refused_with_its_line(tmp_path: Path) -> None:
    org_file = write_example(tmp_path)
    broken = org_file.read_text().replace("  ceo:\n", "  ceo:\n   bad: [\n", 1)
    org_file.write_text(broken)
    handled = HandledError(match="LM-501", action="skip_record", message="Gone for good")
    with pytest.raises(OrgFileError) as caught:
        add_handled_error(org_file, "nick-prospecting", handled)
    assert all(p.line > 1 for p in caught.value.problems)
    assert org_file.read_text() == broken
