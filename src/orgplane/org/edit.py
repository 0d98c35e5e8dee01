"""Editing org.yaml in place, keeping its comments and layout.

An edit is applied to the round-trip document, the result is validated as a whole, and only a
valid result replaces the file (atomically, through a temporary file and a rename): a bad edit
leaves the file exactly as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable
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


def edit_org_file(path: Path, mutate: Callable[[CommentedMap], None]) -> Org:
    """Apply ``mutate`` to the document at ``path``; write it back only if the result is valid.

    Returns the validated org as now written. Raises OrgFileError (file untouched) otherwise,
    also when the file as it stands has problems (so ruamel never meets a broken file raw).
    """
    load_org(path)
    yaml = _yaml()
    document = yaml.load(path.read_text(encoding="utf-8"))
    mutate(document)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    org = parse_org(text, path)
    write_atomically(path, text.encode("utf-8"))
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
