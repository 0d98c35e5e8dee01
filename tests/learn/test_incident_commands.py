"""The incident commands as a person types them: the one-of change (exit 2 naming the choices),
the diff printed verbatim, JSON shapes, exit 1 for overdue follow-ups."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgplane.errors import UsageError
from orgplane.learn.changes import (
    change_from_options,
    parse_coverage,
    parse_due,
    parse_handle_error,
    parse_set,
)
from orgplane.respond.events import FailureEvent, record_event
from orgplane.service.session import Session
from tests.surfaces.cli_helpers import orgplane

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def org(agency: Path, db_url: str) -> list[str]:
    """The global options naming the org and store, with one open incident (id 1)."""
    with Session.open(agency, db_url) as session, session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="stale",
                occurred_at=T0,
                subject_kind="output",
                subject_id="dash-analysis",
                seat_id="dash",
                message="dash-analysis is [bold]stale[/bold]",
            ),
        )
    options = ["--org", str(agency), "--db", db_url]
    assert orgplane(*options, "decide", "--once", "--no-send").returncode == 0
    return options


def test_close_without_a_change_or_with_two_is_exit_2_naming_the_choices(
    org: list[str], agency: Path
) -> None:
    before = agency.read_bytes()
    for extra in ([], ["--no-change", "x", "--retire", "jeff"]):
        result = orgplane(*org, "incident", "close", "1", "--learning", "x", *extra)
        assert result.returncode == 2, result.stderr
        assert (
            "exactly one change" in result.stderr and "--handle-error CODE=ACTION" in result.stderr
        )
        assert "--follow-up TEXT --owner SEAT --due DATE" in result.stderr
        assert "Traceback" not in result.stderr
    assert agency.read_bytes() == before
    shown = json.loads(orgplane(*org, "incident", "show", "1", "--json").stdout)
    assert shown["incident"]["status"] == "open"


def test_close_prints_the_diff_verbatim_and_the_list_shows_the_learning(
    org: list[str], agency: Path
) -> None:
    learning = "Dash's [red]analysis[/red] lands late"
    result = orgplane(
        *org, "incident", "close", "1", "--learning", learning,
        "--set", "output:dash-analysis.description=[b]Client[/b] ad analysis",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--- a/org.yaml" in result.stdout
    assert "+    description: '[b]Client[/b] ad analysis'" in result.stdout
    assert learning in result.stdout  # markup-looking text printed as it is
    listed = orgplane(*org, "incidents", "--json")
    [incident] = json.loads(listed.stdout)["incidents"]
    assert (incident["status"], incident["learning"]) == ("closed", learning)
    assert orgplane(*org, "incidents", "--open").stdout.strip() == "no open incidents"
    shown = orgplane(*org, "incident", "show", "1")
    assert "closed" in shown.stdout and "stale[/bold]" in shown.stdout


def test_a_refused_value_is_exit_2_with_the_file_line(org: list[str], agency: Path) -> None:
    before = agency.read_bytes()
    result = orgplane(
        *org,
        "incident",
        "close",
        "1",
        "--learning",
        "x",
        "--set",
        "output:dash-analysis.max_age=soon",
    )
    assert result.returncode == 2 and "org.yaml:" in result.stderr and "max_age" in result.stderr
    assert agency.read_bytes() == before


def test_ack_then_follow_up_flow(org: list[str]) -> None:
    acked = orgplane(*org, "incident", "ack", "1", "--note", "on it", "--json")
    assert acked.returncode == 0, acked.stderr
    assert json.loads(acked.stdout)["steps"][-1]["step"] == "acknowledged"
    closed = orgplane(
        *org, "incident", "close", "1", "--learning", "needs a new source",
        "--follow-up", "move the source", "--owner", "coo", "--due", "2020-01-01", "--json",
    )  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    follow_up = json.loads(closed.stdout)["follow_up"]
    overdue = orgplane(*org, "follow-ups", "--overdue")
    assert overdue.returncode == 1 and "OVERDUE" in overdue.stdout
    assert (
        orgplane(*org, "follow-up", "done", str(follow_up["id"]), "--note", "moved").returncode == 0
    )
    assert orgplane(*org, "follow-ups", "--overdue").returncode == 0
    again = orgplane(*org, "follow-up", "done", str(follow_up["id"]))
    assert again.returncode == 2 and "already done" in again.stderr


def test_owner_without_follow_up_is_refused() -> None:
    with pytest.raises(UsageError, match="--owner and --due go with --follow-up"):
        change_from_options(no_change="x", owner="coo")
    with pytest.raises(UsageError, match="--follow-up needs --owner"):
        change_from_options(follow_up="x")


TEXT = st.text(st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parsers_refuse_with_a_usage_error_never_crash(text: str) -> None:
    for parse in (parse_set, parse_handle_error, parse_coverage, parse_due):
        try:
            parse(text)
        except UsageError as exc:
            assert str(exc).startswith("--")


@given(
    st.sampled_from(["output", "metric", "process"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9 ,*]{0,10}", fullmatch=True),
)
def test_a_set_that_parses_names_its_target(section: str, item: str, value: str) -> None:
    key = {"output": "description", "metric": "description", "process": "description"}[section]
    change = parse_set(f"{section}:{item}.{key}={value}")
    assert (change.section, change.item, change.key) == (section, item, key)
    assert str(change.value) == value.strip() or change.value is not None


@given(st.dates(), st.sampled_from(["", "T09:00", "T09:00:00+02:00", "T23:59Z"]))
def test_due_is_always_aware_utc(day: object, suffix: str) -> None:
    due = parse_due(f"{day}{suffix}")
    assert due.tzinfo is not None and due.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
