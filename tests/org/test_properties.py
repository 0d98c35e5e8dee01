"""Outside input never crashes the loader: any text is an Org or an OrgFileError."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.errors import OrgFileError
from orgplane.org.durations import format_duration, parse_duration
from orgplane.org.loader import load_org, parse_org

EXAMPLE = (Path(__file__).parents[2] / "src/orgplane/examples/agency/org.yaml").read_text()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_an_org_or_a_located_error(text: str) -> None:
    try:
        parse_org(text, Path("fuzz.yaml"))
    except OrgFileError as exc:
        assert exc.problems
        assert all(p.path == "fuzz.yaml" and p.line >= 1 and p.message for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(EXAMPLE) - 1), st.text(min_size=1, max_size=8))
def test_corrupting_the_example_anywhere_never_crashes(position: int, junk: str) -> None:
    text = EXAMPLE[:position] + junk + EXAMPLE[position:]
    try:
        parse_org(text, Path("org.yaml"))
    except OrgFileError as exc:
        assert all(p.line >= 1 for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_on_disk_are_an_org_or_an_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "org.yaml"
        path.write_bytes(data)
        try:
            load_org(path)
        except OrgFileError as exc:
            assert exc.problems


@given(st.integers(min_value=1, max_value=10**8))
def test_durations_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@given(st.text(max_size=20))
def test_duration_parser_only_raises_value_error(text: str) -> None:
    try:
        assert parse_duration(text) > timedelta(0)
    except ValueError as exc:
        assert "duration" in str(exc)
