"""Writing files so that a reader (or a crash) never sees half of one, and a crash leaves no
litter: a temporary file a killed writer left behind is removed by the next write or load."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from pathlib import Path

STALE_AFTER_SECONDS = 3600
"""A temporary file older than this is stale even if its pid is alive again (a reused pid)."""


def temporary_name(path: Path) -> Path:
    """Where a write of ``path`` puts its bytes before the rename: ``.NAME.<pid>.<hex>``."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one rename, after the bytes are on disk; the
    folder is created if needed, and a failed write leaves ``path`` as it was.

    The rename itself is made durable by an fsync of the folder. The file keeps the mode it
    had (a new one gets the usual 0o666 less the umask), so an agent running as another user
    can still read what it could read before. Temporaries of writers that died are removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = temporary_name(path)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            if path.exists():
                os.chmod(handle.fileno(), path.stat().st_mode & 0o7777)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries of ``path`` whose writer is gone (its pid is not running, or
    the file is over an hour old); return what was removed. A live writer's file is kept,
    and a folder this process may not change is left alone."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            old = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_SECONDS
            if old or not _running(int(match.group(1))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid we can ask about: keep its file
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); where folders cannot be opened, skip."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a folder
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
