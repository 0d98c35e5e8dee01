"""Reading one state file or published content: bounded in size, never raising.

A :class:`Reading` carries what the inspection needs and nothing else: the parsed document (or
CSV row count), the timestamp value found where the org file says, the time the content was
written (file mtime or publish time), and a hash of the content with the timestamp taken out
(so re-stamped old data hashes the same). Any problem becomes ``error`` (corrupt) or
``missing``, with a reason in words.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

from orgplane.org.models import Output
from orgplane.watch.timestamps import parse_timestamp

YAML_MAX_BYTES = 256 * 1024
"""The largest YAML state orgplane parses: the YAML parser is pure Python (about 100-200 KB a
second here), so a 16 MiB file would hold a pass for minutes. Larger YAML is corrupt, with the
advice to write JSON, whose parser is C."""

MAX_VALUES = 2_000_000
"""The most values a YAML document may expand to: aliases let a few bytes name a tree of
billions (the "billion laughs"), which every later walk of the data would pay for."""


@dataclass(slots=True)
class Reading:
    """What was found at an output's location (or in its latest publish)."""

    source: str
    written_at: datetime | None = None
    size: int = 0
    missing: str | None = None
    error: str | None = None
    data: Any = None
    rows: int | None = None
    columns: list[str] = field(default_factory=list)
    data_at: datetime | None = None
    content_hash: str | None = None
    same_content: int | None = None
    raw: bytes | None = None  # the bytes parsed (a reference, not a copy): the gate keeps them


class _StringTimestamps(SafeConstructor):
    """YAML timestamps stay text, so our own strict parser judges them (and a bad date such as
    2026-13-45 is a finding, not a crash inside the YAML library)."""


_StringTimestamps.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def _yaml() -> YAML:
    loader = YAML(typ="safe", pure=True)
    loader.Constructor = _StringTimestamps
    return loader


def read_file(path: str | Path, output: Output, *, keep_raw: bool = False) -> Reading:
    """Read and parse the state file at ``path`` for ``output``. Never raises; never reads more
    than the output's ``max_bytes`` + 1 bytes (a 50 MB file costs one fstat)."""
    shown = str(path)
    max_bytes = output.max_bytes
    try:
        # Non-blocking, so a named pipe left at the location cannot hang the watcher.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return Reading(shown, missing=f"{shown} does not exist")
    except OSError as exc:
        return Reading(shown, missing=f"{shown} cannot be opened: {exc.strerror or exc}")
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            return Reading(
                shown, missing=f"{shown} is not a regular file (a folder, pipe or device)"
            )
        written_at = datetime.fromtimestamp(stat.st_mtime, UTC)
        if stat.st_size > max_bytes:
            return Reading(
                shown,
                written_at=written_at,
                size=stat.st_size,
                error=f"{shown} is {_mb(stat.st_size)}, over the {_mb(max_bytes)} a state file "
                "may be; it was not read (write a summary, not a dump)",
            )
        raw = _read_bounded(fd, max_bytes)
    except OSError as exc:
        return Reading(shown, missing=f"{shown} cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(raw) > max_bytes:  # it grew while being read
        return Reading(
            shown,
            written_at=written_at,
            size=len(raw),
            error=f"{shown} is growing past {_mb(max_bytes)} while being read; it was not used",
        )
    return parse_content(raw, output, shown, written_at, keep_raw=keep_raw)


def _read_bounded(fd: int, max_bytes: int) -> bytes:
    chunks = []
    total = 0
    while total <= max_bytes:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def parse_content(
    raw: bytes, output: Output, source: str, written_at: datetime, *, keep_raw: bool = False
) -> Reading:
    """Parse ``raw`` as ``output.format`` and find its timestamp. Never raises. ``keep_raw``
    keeps the bytes on the reading (for the gate's last good copy); only when asked, since
    holding every file's bytes to the end of its reading costs a pass about 9%."""
    reading = Reading(source, written_at=written_at, size=len(raw), raw=raw if keep_raw else None)
    if not raw.strip():
        reading.error = f"{source} is empty ({len(raw)} bytes)"
        return reading
    if output.format == "yaml" and len(raw) > YAML_MAX_BYTES:
        reading.error = (
            f"{source} is {_mb(len(raw))} of YAML, over the {YAML_MAX_BYTES // 1024} KiB "
            "orgplane parses as YAML; write it as JSON (format: json)"
        )
        return reading
    try:
        if output.format == "csv":
            stamps = _parse_csv(raw, output, reading)
        elif output.format == "text":
            stamps = _parse_text(raw, reading)
        else:
            stamps = _parse_document(raw, output, reading)
    except (ValueError, RecursionError, csv.Error) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors.
        reading.error = f"{source} is not valid {output.format}: {_first_line(exc)}"
        return reading
    except Exception as exc:  # a YAML library error: a finding, never a crash of the watcher
        reading.error = f"{source} is not valid {output.format}: {_first_line(exc)}"
        return reading
    if reading.error is None:
        reading.content_hash = _hash_without(raw, stamps)
    return reading


def _parse_document(raw: bytes, output: Output, reading: Reading) -> list[str]:
    if output.format == "json":
        # NaN and Infinity are not JSON; 1e400 parses as inf, which every range check refuses.
        data = _JSON.decode(raw.decode(json.detect_encoding(raw)))
    else:
        data = _yaml().load(raw.decode("utf-8"))
        if expanded_size(data) > MAX_VALUES:
            raise ValueError(
                f"its aliases expand to more than {MAX_VALUES:,} values; write the data out"
            )
    reading.data = data
    if isinstance(data, list):
        reading.rows = len(data)
    if not output.timestamp:
        reading.data_at = reading.written_at
        return []
    found, value = lookup(data, output.timestamp)
    if not found:
        reading.error = f"{reading.source} has no field {output.timestamp!r} for its timestamp"
        return []
    reading.data_at, problem = parse_timestamp(value, f"timestamp {output.timestamp}")
    if problem:
        reading.error = problem
    return [value] if isinstance(value, str) else []


def _parse_csv(raw: bytes, output: Output, reading: Reading) -> list[str]:
    rows = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    header = next(rows, None) or []
    reading.columns = [c.strip() for c in header]
    column = output.timestamp
    index = reading.columns.index(column) if column in reading.columns else -1
    if column and index < 0:
        reading.error = f"{reading.source} has no column {column!r} for its timestamp"
        return []
    stamps: list[str] = []
    newest: datetime | None = None
    count = 0
    ranges = {
        name: reading.columns.index(name)
        for name in output.checks.ranges
        if name in reading.columns
    }
    values: dict[str, list[str]] = {name: [] for name in ranges}
    for count, row in enumerate(rows, start=1):
        for name, position in ranges.items():
            values[name].append(row[position] if position < len(row) else "")
        if index < 0:
            continue
        cell = row[index] if index < len(row) else ""
        at, problem = parse_timestamp(cell, f"row {count} {column}")
        if problem:
            reading.error = problem
            return []
        stamps.append(cell)
        if newest is None or (at is not None and at > newest):
            newest = at
    reading.rows = count
    reading.data = values
    # With no rows there is no data time; the inspection decides (min_rows, else corrupt).
    reading.data_at = newest if column else reading.written_at
    return stamps


def _parse_text(raw: bytes, reading: Reading) -> list[str]:
    if b"\x00" in raw:  # a file of zeros is what a torn write leaves after a power cut
        raise ValueError("it holds NUL bytes (binary data or a torn write), not text")
    text = raw.decode("utf-8")
    reading.rows = sum(1 for line in text.splitlines() if line.strip())
    reading.data_at = reading.written_at
    return []


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259); write null or a finite number")


_JSON = json.JSONDecoder(parse_constant=_no_constant)  # one decoder, not one per file


def expanded_size(data: Any) -> int:
    """How many values ``data`` holds counted as a tree (a shared node once per reference);
    linear in the distinct nodes, so aliases cannot make the count itself explode."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, dict | list) or (id(node) in sizes and not done):
            continue
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            sizes[id(node)] = 1 + sum(
                sizes.get(id(c), 1) if isinstance(c, dict | list) else 1 for c in children
            )
            continue
        sizes[id(node)] = 1  # on the stack: a cycle counts once instead of looping
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, dict | list))
    return sizes.get(id(data), 1)


def non_finite(data: Any) -> str | None:
    """Where in ``data`` a NaN or infinite float is (``the document``, ``clients.2.spend``);
    None when there is none. Each distinct node is visited once."""
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return where or "the document"
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in items)
    return None


def lookup(data: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted field path (``meta.generated_at``, ``items.0.id``) into parsed data."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _hash_without(raw: bytes, stamps: list[str]) -> str:
    # Take the timestamp text out so re-stamped old data hashes the same as the original.
    for stamp in set(stamps):
        if stamp:
            raw = raw.replace(stamp.encode("utf-8"), b"")
    return hashlib.sha256(raw).hexdigest()


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."
