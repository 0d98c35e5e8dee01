"""Batch files: JSON list, JSON Lines and CSV; every bad file is one UsageError naming file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.errors import InputFileError, UsageError
from orgplane.runs.records import parse_batch, read_batch, record_keys


def test_the_three_formats(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"id": "x", "n": 1}, {"n": 2}]')
    (tmp_path / "a.jsonl").write_text('{"id": 1}\n\n{"id": 2}\n')
    (tmp_path / "a.csv").write_text("id,email\n7,a@b.c\n8,d@e.f\n")
    assert read_batch(tmp_path / "a.json") == [{"id": "x", "n": 1}, {"n": 2}]
    assert record_keys(read_batch(tmp_path / "a.json")) == ["x", "2"]
    assert read_batch(tmp_path / "a.jsonl") == [{"id": 1}, {"id": 2}]
    assert read_batch(tmp_path / "a.csv") == [
        {"id": "7", "email": "a@b.c"},
        {"id": "8", "email": "d@e.f"},
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("b.json", '[{"id": 1},\n {"id": 2,,}]', r"b.json:2: not JSON"),
        ("b.json", '{"id": 1}', r"b.json:1: a .json batch is a list"),
        ("b.json", "[NaN]", r"b.json:1: not usable JSON: NaN is not JSON"),
        ("b.jsonl", '{"id": 1}\n{"id": \n', r"b.jsonl:2: not JSON"),
        ("b.csv", "id,email\n1,a\n2,b,c\n", r"b.csv:3: 3 fields but the header has 2"),
        ("b.csv", "id,id\n1,2\n", r"b.csv:1: the CSV header needs unique"),
        ("b.json", "[]", r"b.json: the batch has no records"),
        ("b.json", '[{"id": 1}, {"id": 1}]', r"records 1 and 2 share the id '1'"),
        ("b.txt", "hello", r"unknown batch format '.txt'"),
        ("b.json", "[" * 100_000, r"b.json:1: not usable JSON: nested too deeply"),
    ],
)
def test_bad_batch_files_name_the_place(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_batch(path)


def test_not_utf8_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": 1}\n\xff\xfe\n')
    with pytest.raises(UsageError, match=r"c.jsonl:2: not UTF-8"):
        read_batch(path)
    with pytest.raises(UsageError, match="cannot read the batch file"):
        read_batch(tmp_path / "missing.json")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".jsonl", ".csv", ".x"]))
def test_arbitrary_bytes_never_crash(data: bytes, suffix: str) -> None:
    try:
        records = parse_batch(data, Path(f"batch{suffix}"))
    except InputFileError as exc:
        assert "\n" not in str(exc)  # one line
    else:
        assert records and len(record_keys(records)) == len(records)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from('[]{}",:0123456789.eE-+ntruefalsenul\n\r\\ab'), max_size=200
    )
)
def test_json_like_text_never_crashes(text: str) -> None:
    for suffix in (".json", ".jsonl", ".csv"):
        try:
            records = parse_batch(text.encode(), Path(f"batch{suffix}"))
        except InputFileError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"batch{suffix}")
            assert exc.path == f"batch{suffix}"
        else:  # read: a non-empty list of records with unique keys, as stored runs need
            assert records and len(set(record_keys(records))) == len(records)
            if suffix == ".csv":
                assert all(isinstance(r, dict) for r in records)
