"""Batch files and the records in them: JSON list, JSON Lines or CSV, read with file:line errors.

A record's key is its ``id`` field when it has one, else its 1-based position in the batch; the
key names the record in status, checkpoints and idempotency keys, so it must be unique.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from orgplane.errors import UsageError

FORMATS = ".json (a list), .jsonl (one record a line) or .csv (a header row)"


def read_batch(path: str | Path) -> list[Any]:
    """The records of a batch file; any problem is one UsageError naming ``file:line``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the batch file ({exc.strerror or exc})") from None
    return parse_batch(data, path)


def parse_batch(data: bytes, path: Path) -> list[Any]:
    """Parse batch-file bytes by the file's extension; never raises anything but UsageError."""
    suffix = path.suffix.lower()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text; save the batch file as UTF-8") from None
    if suffix == ".json":
        records = _json_list(text, path)
    elif suffix in (".jsonl", ".ndjson"):
        records = _json_lines(text, path)
    elif suffix == ".csv":
        records = _csv_rows(text, path)
    else:
        raise UsageError(f"{path}: unknown batch format {suffix or '(none)'!r}; use {FORMATS}")
    if not records:
        raise UsageError(f"{path}: the batch has no records; add at least one")
    record_keys(records, str(path))
    return records


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _json_list(text: str, path: Path) -> list[Any]:
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path}:1: not usable JSON: {_short(exc)}") from None
    if not isinstance(value, list):
        raise UsageError(f"{path}:1: a .json batch is a list of records: [{{...}}, {{...}}]")
    return value


def _json_lines(text: str, path: Path) -> list[Any]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON: {exc.msg}") from None
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{path}:{number}: not usable JSON: {_short(exc)}") from None
    return records


def _csv_rows(text: str, path: Path) -> list[Any]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [name.strip() for name in header]
        if not all(names) or len(set(names)) != len(names):
            raise UsageError(f"{path}:1: the CSV header needs unique, non-empty column names")
        rows = []
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise UsageError(
                    f"{path}:{reader.line_num}: {len(row)} fields but the header has {len(names)}"
                )
            rows.append(dict(zip(names, row, strict=True)))
        return rows
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not CSV: {exc}") from None


def _short(exc: BaseException) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def record_keys(records: list[Any], where: str = "batch") -> list[str]:
    """Each record's key (its ``id``, else its position); duplicates are a UsageError."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        ident = record.get("id") if isinstance(record, dict) else None
        key = (
            str(ident)
            if ident is not None and not isinstance(ident, dict | list)
            else str(position)
        )
        if len(key) > 200:
            raise UsageError(f"{where}: record {position} has an id longer than 200 characters")
        if key in seen:
            raise UsageError(
                f"{where}: records {seen[key]} and {position} share the id {key!r}; ids must be unique"
            )
        seen[key] = position
        keys.append(key)
    return keys


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
decode = json.JSONDecoder().decode


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The C encoder json builds inside every JSONEncoder.encode call, built once: that setup is most
# of the cost of encoding a small output. Without a markers dict a cycle is a RecursionError
# (refused like any other value that is not JSON) instead of a ValueError.
_C_ENCODE = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def encode(value: Any) -> str:
    """``value`` as compact JSON text (no NaN or infinities); TypeError, ValueError or
    RecursionError for a value that is not JSON."""
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def as_stored(value: Any, text: str) -> Any:
    """What decoding ``text`` (which is ``encode(value)``) gives back, without decoding it when
    that is certain: a flat dict of str keys and JSON scalars (exact types: no subclasses)
    decodes to an equal dict, so a shallow copy of it is returned; anything else is decoded."""
    if type(value) is dict:
        for k, v in value.items():
            if type(k) is not str or type(v) not in _SCALARS:
                return decode(text)
        return value.copy()
    return decode(text)


def not_json(exc: BaseException) -> str:
    """The end of a message about a value ``encode`` refused."""
    return (
        f"is not JSON-serialisable ({_short(exc)}); return dicts, lists, str, int, float, "
        "bool or None"
    )


def to_json(value: Any, what: str) -> str:
    """``value`` as compact JSON text, or a UsageError saying what was not serialisable."""
    try:
        return encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{what} {not_json(exc)}") from None


def records_digest(records_json: list[str]) -> str:
    """A digest of a batch's records, to tell a resumed batch from a different one."""
    digest = hashlib.sha256()
    for text in records_json:
        digest.update(text.encode())
        digest.update(b"\n")
    return digest.hexdigest()
