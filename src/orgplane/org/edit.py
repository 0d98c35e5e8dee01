"""Editing org.yaml in place, keeping its comments and layout.

An edit is applied to the round-trip document, the result is validated as a whole, and only a
valid result replaces the file (atomically, through a temporary file and a rename): a bad edit
leaves the file exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from orgplane.errors import UsageError
from orgplane.files import write_atomically
from orgplane.org.loader import load_org, parse_org
from orgplane.org.models import HandledError, Org


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@contextlib.contextmanager
def editing(path: Path) -> Iterator[None]:
    """Hold the org file's edit lock: an exclusive ``flock`` on the file as it is now, so two
    edits (two incidents closed at once) run one after the other and neither is lost. The
    rename of a finished edit replaces the file; a waiter that then locks the replaced one
    sees it is no longer at ``path`` and locks the new one."""
    try:
        import fcntl
    except ImportError:  # not POSIX: edits are not serialised between processes
        yield
        return
    while True:
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield  # nothing to lock yet: load_org reports the missing file
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = -1
            if os.fstat(descriptor).st_ino == current:
                yield
                return
        finally:
            os.close(descriptor)  # releases the lock


def edit_org_file(
    path: Path, mutate: Callable[[CommentedMap], None], *, texts: list[bytes] | None = None
) -> Org:
    """Apply ``mutate`` to the document at ``path``; write it back only if the result is valid.

    Returns the validated org as now written. Raises OrgFileError (file untouched) otherwise,
    also when the file as it stands has problems (so ruamel never meets a broken file raw).
    Edits are serialised by :func:`editing`. ``texts``, when given, receives the bytes the
    edit started from and those it wrote (a diff of exactly this edit).
    """
    with editing(path):
        load_org(path)
        raw = path.read_bytes()
        yaml = _yaml()
        document = yaml.load(raw.decode("utf-8"))
        mutate(document)
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        text = buffer.getvalue()
        org = parse_org(text, path)
        written = text.encode("utf-8")
        write_atomically(path, written)
        if texts is not None:
            texts += [raw, written]
        return org


def add_handled_error(path: Path, process_id: str, handled: HandledError) -> Org:
    """Add ``handled`` to a process's handled errors (the learning after an unknown error)."""
    return edit_org_file(path, handled_error_mutation(path, process_id, handled))


def handled_error_mutation(
    path: Path, process_id: str, handled: HandledError
) -> Callable[[CommentedMap], None]:
    """The edit that appends ``handled`` to process ``process_id``'s ``handled_errors``;
    UsageError when the process is not declared or already handles that code."""

    def mutate(document: CommentedMap) -> None:
        processes = document.get("processes") or {}
        if process_id not in processes:
            raise UsageError(f"{path}: no process {process_id!r} to add a handled error to")
        process = processes[process_id]
        existing = process.get("handled_errors")
        if existing is None:
            existing = CommentedSeq()
            process["handled_errors"] = existing
        if any(str(item.get("match")) == handled.match for item in existing):
            raise UsageError(
                f"{path}: process {process_id!r} already handles {handled.match!r}; edit that entry"
            )
        entry: dict[str, Any] = handled.model_dump(mode="json", exclude_defaults=True)
        entry = {"match": handled.match, "action": handled.action, **entry}
        existing.append(CommentedMap(entry))

    return mutate
