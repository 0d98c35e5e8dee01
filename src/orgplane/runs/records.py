"""Batch files and the records in them: JSON list, JSON Lines or CSV, read with file:line errors.

A record's key is its ``id`` field when it has one, else its 1-based position in the batch; the
key names the record in status, checkpoints and idempotency keys, so it must be unique.

A batch file comes from outside, so everything one file can make this process spend is bounded
before it is spent: its size (``MAX_BATCH_BYTES``, checked on the file's stated size and again
on what is read, so a sparse 2 GB file or a device never fills memory), its records
(``MAX_RECORDS``), their nesting (``MAX_DEPTH``; deeper input would exhaust the parser's
recursion) and the digits of a number (Python's int limit). What cannot be stored as it was
written is refused rather than changed: NaN and infinities, numbers that overflow a float,
duplicate keys in one object, lone UTF-16 surrogates, ids with control characters. Every
refusal is one :class:`InputFileError` naming the file (and line, where there is one) and the fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from orgplane.errors import InputFileError, UsageError

FORMATS = ".json (a list), .jsonl (one record a line) or .csv (a header row)"
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 1_000_000
MAX_DEPTH = 64
MAX_KEY = 200
# A JSON escape of a UTF-16 surrogate: the only way text decoded from UTF-8 can hold one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_batch(path: str | Path) -> list[Any]:
    """The records of a batch file; any problem is one InputFileError naming ``file:line``."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BATCH_BYTES:
                raise _too_big(path)
            data = handle.read(MAX_BATCH_BYTES + 1)  # a pipe or device says no size: cap it
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot read the batch file ({exc.strerror or exc}); check the path",
            path=str(path),
        ) from None
    return parse_batch(data, path)


def _too_big(path: Path) -> InputFileError:
    return InputFileError(
        f"{path}: the batch file is larger than {MAX_BATCH_BYTES // 2**20} MiB; split it into "
        "several batches",
        path=str(path),
    )


def _refusal(path: Path, message: str, line: int | None = None) -> InputFileError:
    where = f"{path}:{line}" if line is not None else str(path)
    return InputFileError(f"{where}: {message}", path=str(path), line=line)


def parse_batch(data: bytes, path: Path) -> list[Any]:
    """Parse batch-file bytes by the file's extension; never raises anything but
    InputFileError (one line), and never spends more than the bounds of this module."""
    suffix = path.suffix.lower()
    if len(data) > MAX_BATCH_BYTES:
        raise _too_big(path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refusal(path, "UTF-16 text (a byte-order mark says so); save the batch as UTF-8", 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _refusal(path, "not UTF-8 text; save the batch file as UTF-8", line) from None
    if suffix == ".json":
        records, lines = _json_list(text, path), None
    elif suffix in (".jsonl", ".ndjson"):
        records, lines = _json_lines(text, path)
    elif suffix == ".csv":
        records, lines = _csv_rows(text, path)
    else:
        raise _refusal(path, f"unknown batch format {suffix or '(none)'!r}; use {FORMATS}")
    if not records:
        raise _refusal(path, "the batch has no records; add at least one")
    if len(records) > MAX_RECORDS:
        raise _refusal(path, f"more than {MAX_RECORDS:,} records; split the batch")
    if _SURROGATE_ESCAPE.search(text):
        _refuse_surrogates(records, path, lines)
    try:
        record_keys(records, str(path), lines)
    except _KeyProblem as problem:
        raise _refusal(path, problem.message, problem.line) from None
    return records


def _refuse_surrogates(records: list[Any], path: Path, lines: list[int] | None) -> None:
    for position, record in enumerate(records, start=1):
        try:
            encode(record).encode("utf-8")
        except UnicodeEncodeError:
            line = lines[position - 1] if lines else None
            raise _refusal(
                path,
                f"record {position} holds a lone UTF-16 surrogate (a \\uD8xx-\\uDFxx escape "
                "without its pair), which cannot be stored; fix or remove the escape",
                line,
            ) from None


class _Strict:
    """The decoder's hooks: refuse what JSON text can say but a store cannot keep as written."""

    @staticmethod
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    @staticmethod
    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"the number {text[:40]} is too large for a float")
        return value

    @staticmethod
    def pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) != len(pairs):
            seen: set[str] = set()
            twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            raise ValueError(f"the key {twice[:80]!r} appears twice in one object")
        return found


_DECODER = json.JSONDecoder(
    parse_constant=_Strict.constant, parse_float=_Strict.number, object_pairs_hook=_Strict.pairs
)


def _loads(text: str) -> Any:
    value = _DECODER.decode(text)
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    """ValueError if ``value`` nests deeper than MAX_DEPTH (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return f"nested too deeply (more than {MAX_DEPTH} levels); flatten the records"
    return f"{_one_line(str(exc))}; fix the value"


def _json_list(text: str, path: Path) -> list[Any]:
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise _refusal(path, f"not JSON: {exc.msg}; fix the file", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise _refusal(path, f"not usable JSON: {_why(exc)}", 1) from None
    if not isinstance(value, list):
        raise _refusal(path, "a .json batch is a list of records: [{...}, {...}]", 1)
    return value


def _json_lines(text: str, path: Path) -> tuple[list[Any], list[int]]:
    records: list[Any] = []
    lines: list[int] = []
    # Split on newlines only: str.splitlines would also split inside a string holding U+2028.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(_loads(line))
        except json.JSONDecodeError as exc:
            raise _refusal(path, f"not JSON: {exc.msg}; fix the line", number) from None
        except (ValueError, RecursionError) as exc:
            raise _refusal(path, f"not usable JSON: {_why(exc)}", number) from None
        lines.append(number)
        if len(records) > MAX_RECORDS:
            break
    return records, lines


def _csv_rows(text: str, path: Path) -> tuple[list[Any], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return [], []
        names = [name.strip() for name in header]
        if not all(names) or len(set(names)) != len(names):
            raise _refusal(path, "the CSV header needs unique, non-empty column names", 1)
        rows: list[Any] = []
        lines: list[int] = []
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise _refusal(
                    path, f"{len(row)} fields but the header has {len(names)}", reader.line_num
                )
            rows.append(dict(zip(names, row, strict=True)))
            lines.append(reader.line_num)
            if len(rows) > MAX_RECORDS:
                break
        return rows, lines
    except csv.Error as exc:
        message = f"not CSV: {_one_line(str(exc))}; fix the row"
        raise _refusal(path, message, reader.line_num) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _short(exc: BaseException) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else _one_line(str(exc))


class _KeyProblem(UsageError):
    """Two records with one key, or a key that cannot be one; ``line`` where the file says."""

    def __init__(self, where: str, message: str, line: int | None) -> None:
        super().__init__(f"{where}: {message}")
        self.message = message
        self.line = line


def record_keys(
    records: list[Any], where: str = "batch", lines: list[int] | None = None
) -> list[str]:
    """Each record's key (its ``id``, else its position); a duplicate, or a key that is too long
    or holds control characters, is a UsageError (naming the line when ``lines`` are given)."""
    keys: list[str] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        ident = record.get("id") if isinstance(record, dict) else None
        key = (
            str(ident)
            if ident is not None and not isinstance(ident, dict | list)
            else str(position)
        )
        line = lines[position - 1] if lines else None
        if len(key) > MAX_KEY:
            raise _KeyProblem(
                where,
                f"record {position} has an id longer than {MAX_KEY} characters; shorten it",
                line,
            )
        if not key.isprintable():
            raise _KeyProblem(
                where,
                f"record {position} has an id with a control character "
                f"({key[:40]!r}); ids are printable text",
                line,
            )
        if key in seen:
            raise _KeyProblem(
                where,
                f"records {seen[key]} and {position} share the id {key[:80]!r}; ids must be unique",
                line,
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
