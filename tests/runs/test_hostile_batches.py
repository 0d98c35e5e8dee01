"""Hostile batch files: every one is read, or refused as one InputFileError naming the file (and
the line where there is one) and the fix; nothing one file holds can exhaust size, depth or
time, and what is read can be stored as it was written."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.errors import InputFileError
from orgplane.org.models import Org
from orgplane.runs import read_batch
from orgplane.runs.process import start_run
from orgplane.runs.records import MAX_BATCH_BYTES, MAX_DEPTH, parse_batch, record_keys
from orgplane.store.engine import Store

SUFFIXES = (".json", ".jsonl", ".csv")


def read_or_refuse(data: bytes, suffix: str) -> list[Any] | InputFileError:
    """Parse ``data``; a refusal must be one line starting with the file's name."""
    path = Path(f"batch{suffix}")
    try:
        records = parse_batch(data, path)
    except InputFileError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path)), message
        assert exc.path == str(path)
        assert exc.line is None or message.startswith(f"{path}:{exc.line}: ")
        return exc
    assert records and len(set(record_keys(records))) == len(records)
    for record in records:  # what is read can be stored: plain JSON, finite, UTF-8 clean
        json.dumps(record, allow_nan=False, ensure_ascii=False).encode("utf-8")
    return records


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes(data: bytes, suffix: str) -> None:
    read_or_refuse(data, suffix)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(non_finite(v) for v in value)
    return False


@settings(max_examples=200, deadline=None)
@given(records=st.lists(json_values, min_size=0, max_size=6), bom=st.booleans())
def test_structured_json_of_any_shape(records: list[Any], bom: bool) -> None:
    text = json.dumps(records)  # NaN and Infinity come out as bare words: must be refused
    prefix = b"\xef\xbb\xbf" if bom else b""
    got = read_or_refuse(prefix + text.encode(), ".json")
    lines = read_or_refuse(prefix + "\n".join(json.dumps(r) for r in records).encode(), ".jsonl")
    if non_finite(records):
        assert isinstance(got, InputFileError) and isinstance(lines, InputFileError)


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(min_value=1, max_value=5000), kind=st.sampled_from(["[]", "{}"]))
def test_deep_nesting_is_bounded(depth: int, kind: str) -> None:
    opening, closing = ('{"a":', "}") if kind == "{}" else ("[", "]")
    text = "[" + opening * depth + "1" + closing * depth + "]"
    got = read_or_refuse(text.encode(), ".json")
    assert isinstance(got, InputFileError) == (depth + 1 > MAX_DEPTH)
    if isinstance(got, InputFileError):
        assert "nested" in str(got)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[" + "9" * 5000 + "]", "digits"),  # past Python's int-from-text limit
        ("[1e999]", "too large for a float"),
        ("[-1e400]", "too large for a float"),
        ('[{"id": 1, "id": 2}]', "appears twice in one object"),
        ('[{"id": "a"}, {"id": "a"}]', "share the id"),
        ('[{"id": "a\\u0000b"}]', "control character"),
        ('["\\ud800"]', "lone UTF-16 surrogate"),
        ('["a\x00b"]', "not JSON"),  # a raw NUL inside a string is a control character
        ("[Infinity]", "Infinity is not JSON"),
    ],
)
def test_values_that_cannot_be_stored_as_written_are_refused(content: str, why: str) -> None:
    got = read_or_refuse(content.encode(), ".json")
    assert isinstance(got, InputFileError) and why in str(got)


def test_refusals_name_the_line(tmp_path: Path) -> None:
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text('{"id": 1}\n{"id": 2}\n\n{"id": 1}\n')
    with pytest.raises(InputFileError, match=r"b.jsonl:4: records 1 and 3 share the id '1'"):
        read_batch(jsonl)
    csv_file = tmp_path / "b.csv"
    csv_file.write_text("id,v\n1,a\n2,b\n2,c\n")
    with pytest.raises(InputFileError, match=r"b.csv:4: records 2 and 3 share the id '2'") as exc:
        read_batch(csv_file)
    assert exc.value.line == 4


def test_boms(tmp_path: Path) -> None:
    utf8 = tmp_path / "a.csv"
    utf8.write_bytes(b"\xef\xbb\xbfid,v\n1,x\n")
    assert read_batch(utf8) == [{"id": "1", "v": "x"}]  # the BOM is not part of the header
    utf16 = tmp_path / "b.json"
    utf16.write_bytes('[{"id": 1}]'.encode("utf-16"))
    with pytest.raises(InputFileError, match=r"b.json:1: UTF-16 text .*save the batch as UTF-8"):
        read_batch(utf16)


def test_a_huge_stated_size_is_refused_unread(tmp_path: Path) -> None:
    sparse = tmp_path / "big.json"
    with sparse.open("wb") as handle:
        handle.write(b"[")
        handle.truncate(2 * 1024**3)  # 2 GB claimed, almost nothing on disk
    with pytest.raises(InputFileError, match=r"big.json: the batch file is larger than 64 MiB"):
        read_batch(sparse)
    assert parse_batch(b"[1]", Path("x.json")) == [1]
    with pytest.raises(InputFileError, match="larger than"):
        parse_batch(b" " * (MAX_BATCH_BYTES + 1), Path("x.json"))


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"cannot read the batch file .*; check the path"):
        read_batch(tmp_path)
    with pytest.raises(InputFileError, match=r"missing.json: cannot read"):
        read_batch(tmp_path / "missing.json")


def test_a_csv_field_past_the_limit_names_its_line() -> None:
    data = b"id,v\n1,a\n2," + b"x" * 200_000 + b"\n"
    got = read_or_refuse(data, ".csv")
    assert isinstance(got, InputFileError) and got.line is not None and "not CSV" in str(got)


NASTY_BUT_VALID = [
    {"id": "line-sep", "v": "line\u2028sep para\u2029graph"},  # raw in JSON strings: allowed
    {"id": "nul-in-value", "v": "a\x00b"},
    {"id": "big", "v": int("9" * 4000)},
    {"id": "é😀", "v": [[[[{"deep": True}]]]]},
    ["not", "an", "object"],
    None,
    "a string record",
]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_nasty_but_valid_records_are_read_and_stored_as_written(
    tmp_path: Path, store: Store, org: Org, suffix: str
) -> None:
    path = tmp_path / f"nasty{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(NASTY_BUT_VALID, ensure_ascii=False))
    else:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in NASTY_BUT_VALID))
    records = read_batch(path)
    assert records == NASTY_BUT_VALID
    assert record_keys(records)[4:] == ["5", "6", "7"]  # no id: the position
    run_id = start_run(store, org.processes["pipe"], records, batch=f"nasty{suffix}")
    from sqlalchemy import select

    from orgplane.store.tables import run_records

    with store.read() as conn:
        stored = [
            row.input
            for row in conn.execute(
                select(run_records.c.input)
                .where(run_records.c.run_id == run_id)
                .order_by(run_records.c.seq)
            )
        ]
    assert stored == NASTY_BUT_VALID
