"""The briefing's pure rules: summaries of content, the action taken, who a decision waits on."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orgplane.org.models import Output
from orgplane.respond.briefing import (
    LINE_LIMIT,
    SUMMARY_LINES,
    VALUE_LIMIT,
    action_taken,
    as_of,
    awaiting_person,
    first_lines,
    last_good,
    summarize,
)
from tests.watch.conftest import NOW


def output(**keys: Any) -> Output:
    return Output.model_validate({"id": "out", "producer": "dash", **keys})


def test_a_declared_field_is_the_summary() -> None:
    content = json.dumps({"meta": {"headline": "Spend on plan"}, "items": [{"n": 3}]}).encode()
    assert summarize(output(summary="meta.headline"), content).text == "Spend on plan"
    assert summarize(output(summary="items.0.n"), content).text == "3"
    found = summarize(output(summary="meta"), content)
    assert (found.source, found.text) == ("field", '{"headline": "Spend on plan"}')


def test_yaml_fields_are_read_as_json_ones() -> None:
    content = b"headline: Spend on plan\nat: 2026-06-21T07:00:00Z\n"
    found = summarize(output(format="yaml", summary="headline", timestamp="at"), content)
    assert (found.source, found.text) == ("field", "Spend on plan")


def test_without_a_field_or_with_it_absent_the_first_lines_are_shown() -> None:
    content = "\n".join(f"line {n}" for n in range(1, 10)).encode()
    plain = summarize(output(format="text"), content)
    assert plain.source == "first_lines" and plain.text.splitlines() == [
        f"line {n}" for n in range(1, SUMMARY_LINES + 1)
    ]
    assert plain.note == f"{SUMMARY_LINES} of 9 lines"
    absent = summarize(output(summary="headline"), b'{"x": 1}')
    assert (absent.source, absent.text, absent.field) == ("first_lines", '{"x": 1}', "headline")
    assert absent.note == "the content has no field 'headline'; the first lines are shown"
    broken = summarize(output(summary="headline"), b"{not json")
    assert broken.source == "first_lines" and "could not be parsed as json" in (broken.note or "")


def test_long_values_and_lines_are_cut_and_say_so() -> None:
    value = "x" * (VALUE_LIMIT + 10)
    cut = summarize(output(summary="v"), json.dumps({"v": value}).encode())
    assert cut.text == "x" * VALUE_LIMIT + " [...]" and cut.note == "cut at 2,000 characters"
    line = first_lines(("y" * (LINE_LIMIT + 1)).encode())
    assert line.text == "y" * LINE_LIMIT + " [...]" and "cut at" in (line.note or "")


def test_csv_summary_is_the_newest_row_by_its_timestamp_else_the_last() -> None:
    content = (
        b"at,calls\n2026-06-21T09:00:00Z,41\n2026-06-21T11:00:00Z,37\n2026-06-21T10:00:00Z,12\n"
    )
    by_time = summarize(output(format="csv", timestamp="at", summary="calls"), content)
    assert (by_time.source, by_time.text) == ("field", "37")
    last = summarize(output(format="csv", summary="calls"), content)
    assert last.text == "12"
    missing = summarize(output(format="csv", summary="answered"), content)
    assert missing.source == "first_lines" and "no column 'answered'" in (missing.note or "")
    empty = summarize(output(format="csv", summary="calls"), b"at,calls\n")
    assert empty.source == "first_lines" and "no rows" in (empty.note or "")


def test_the_action_taken_in_words() -> None:
    label = as_of(NOW, "1d 6h")
    assert label == "as of 2026-06-21 12:00 UTC, 1d 6h old"
    words = {
        ("content", "skip_and_flag"): "read as current",
        ("last_good", "use_last_good"): f"last good shown, {label}",
        ("nothing", "skip_and_flag"): "skipped and flagged",
        ("nothing", "use_last_good"): "skipped and flagged (no good content was ever kept)",
        ("refused", "escalate"): "refused and escalated to client-lead (Janine)",
        ("refused", "block"): "refused: radar blocks until dash fixes it",
    }
    for (given_, protocol), expected in words.items():
        said = action_taken(
            given_,
            protocol,
            seat_id="radar",
            producer="dash",
            escalated_to="client-lead (Janine)",
            as_of=label,
        )
        assert said == expected


def test_last_good_in_words() -> None:
    assert last_good(None, NOW) == "never seen good"
    assert last_good(NOW - timedelta(hours=20), NOW) == "last good 2026-06-20 16:00 UTC (20h ago)"


def test_who_a_decision_waits_on() -> None:
    past, future = NOW - timedelta(minutes=1), NOW + timedelta(hours=1)
    assert awaiting_person("escalate", "ceo", future, NOW)
    assert awaiting_person("escalate", None, future, NOW)  # nobody named: still a person's job
    assert not awaiting_person("wait", "coo", future, NOW)  # the next run may correct it
    assert awaiting_person("wait", "coo", past, NOW)  # it did not: it escalates now
    assert awaiting_person("resume", "coo", past, NOW)
    assert not awaiting_person("wait", None, past, NOW)
    assert not awaiting_person("skip_and_flag", "coo", past, NOW)  # the flag is the answer


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=values, raw=st.binary(max_size=2000), fmt=st.sampled_from(["json", "yaml", "csv"]))
def test_summaries_never_raise_and_stay_bounded(value: Any, raw: bytes, fmt: str) -> None:
    declared = output(format=fmt, summary="v")
    for content in (json.dumps({"v": value}).encode(), raw):
        found = summarize(declared, content)
        assert found.source in ("field", "first_lines")
        assert len(found.text) <= max(VALUE_LIMIT, SUMMARY_LINES * (LINE_LIMIT + 7)) + 10
    shown = summarize(output(summary="v"), json.dumps({"v": value}).encode())
    if isinstance(value, str) and len(value) <= VALUE_LIMIT:
        assert (shown.source, shown.text) == ("field", value)  # a text value as written
