"""Atomic file replacement keeps the file's mode and leaves nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from orgplane.files import write_atomically


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
