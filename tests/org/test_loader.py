"""Loading org.yaml: every kind of mistake is reported with its file:line and a fix, in one pass."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from orgplane.errors import OrgFileError
from orgplane.org.loader import load_org

BASE = """\
name: Test Org
seats:
  boss:
    title: Boss
    kind: human
    capabilities: [deciding]
  helper:
    title: Helper agent
    kind: agent
    reports_to: boss
    owner: boss
    capabilities: [helping]
    inputs:
      report: skip_and_flag
  writer:
    title: Writer agent
    kind: agent
    reports_to: boss
    owner: boss
    capabilities: [writing]
outputs:
  report:
    producer: writer
    location: state/report.json
    timestamp: updated_at
    max_age: 18h
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the nth line containing ``needle``: where the error must point."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(OrgFileError) as caught:
        load_org(path)
    return [str(p) for p in caught.value.problems]


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, BASE))
    assert set(org.seats) == {"boss", "helper", "writer"}
    assert org.outputs["report"].max_age == timedelta(hours=18)
    assert org.seats["helper"].inputs["report"].protocol == "skip_and_flag"


def test_shipped_example_is_valid(agency: Path) -> None:
    org = load_org(agency)
    agents = [s for s in org.active_seats() if s.kind == "agent"]
    humans = [s for s in org.active_seats() if s.kind == "human"]
    assert len(agents) >= 6 and len(humans) >= 4
    assert org.seats["jeff"].status == "retired"
    assert org.seats["jeff"].retired is not None
    for capability, taker in org.seats["jeff"].retired.redistributed.items():
        assert capability in org.seats[taker].capabilities
    assert any(o.max_age == timedelta(hours=18) for o in org.outputs.values())
    assert org.processes["nick-prospecting"].stages[0].name == "validate"
    assert len(org.urgency) >= 2


@pytest.mark.parametrize(
    ("mutation", "needle", "expected"),
    [
        (
            ("reports_to: boss", "reports_to: bos", 1),
            "reports_to: bos",
            "reports_to 'bos' is not a seat; did you mean 'boss'?",
        ),
        (
            ("capabilities: [writing]", "capabilities: [helping]", 2),
            "capabilities: [helping]",
            "capability 'helping' is already held by active seat 'helper'",
        ),
        (
            ("    owner: boss\n    capabilities: [helping]", "    capabilities: [helping]", 1),
            "  helper:",
            "agent seat 'helper' has no owner",
        ),
        (
            ("report: skip_and_flag", "reprot: skip_and_flag", 1),
            "reprot:",
            "reads output 'reprot', which is not declared under outputs; did you mean 'report'?",
        ),
        (("max_age: 18h", "max_age: 18 hours", 1), "max_age:", "malformed duration '18 hours'"),
        (
            ("max_age: 18h", "max_age: 18h\n    schedule: '61 * * * *'", 1),
            "schedule:",
            "malformed cron expression '61 * * * *'",
        ),
        (("title: Boss", "titel: Boss", 1), "titel:", "unknown key 'titel'; did you mean 'title'?"),
        (("kind: human", "kind: robot", 1), "kind: robot", "'robot' is not allowed"),
        (
            ("report: skip_and_flag", "report: ignore_it", 1),
            "report: ignore_it",
            "'ignore_it' is not allowed",
        ),
        (
            ("producer: writer", "producer: ghost", 1),
            "producer: ghost",
            "producer 'ghost' is not a seat",
        ),
        (
            (
                "owner: boss\n    capabilities: [writing]",
                "owner: helper\n    capabilities: [writing]",
                1,
            ),
            "owner: helper",
            "owner 'helper' is an agent seat; name a human seat",
        ),
        (
            ("name: Test Org\n", "name: Test Org\nseets: {}\n", 1),
            "seets:",
            "unknown top-level key 'seets'; did you mean 'seats'?",
        ),
    ],
    ids=[
        "unknown-reports-to",
        "duplicate-capability",
        "agent-without-owner",
        "unknown-input",
        "bad-duration",
        "bad-cron",
        "unknown-key",
        "bad-kind",
        "bad-protocol",
        "unknown-producer",
        "agent-owner",
        "unknown-top-level",
    ],
)
def test_each_mistake_names_its_line_and_fix(
    tmp_path: Path, mutation: tuple[str, str, int], needle: str, expected: str
) -> None:
    old, new, occurrence = mutation
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(path, needle, occurrence)}: "), problems
    assert expected in problems[0]


def test_reporting_cycle_is_named(tmp_path: Path) -> None:
    text = BASE.replace(
        "    kind: human\n    capabilities: [deciding]",
        "    kind: human\n    reports_to: writer\n    capabilities: [deciding]",
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 1
    assert "reporting cycle boss -> writer -> boss" in problems[0]
    assert problems[0].startswith(f"{path}:{line_of(path, 'reports_to: writer')}: ")


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("    title: Boss", "    title: [Boss"))
    problems = problems_of(path)
    assert len(problems) == 1 and "YAML syntax" in problems[0]
    assert problems[0].startswith(f"{path}:")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("    title: Boss", "    title: Boss\n    title: Chief"))
    assert any("YAML syntax" in p for p in problems_of(path))


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nope.yaml")
    assert "orgplane init" in problems[0]


def test_retired_seat_redistribution_must_land(tmp_path: Path) -> None:
    text = BASE.replace(
        "outputs:",
        textwrap.indent(
            textwrap.dedent("""\
        old:
          title: Retired agent
          kind: agent
          owner: boss
          status: retired
          retired:
            on: 2026-04-17
            redistributed:
              archiving: helper
        """),
            "  ",
        )
        + "outputs:",
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 1
    assert "capability 'archiving' is said to go to 'helper'" in problems[0]
    assert problems[0].startswith(f"{path}:{line_of(path, 'archiving: helper')}: ")


TEN_MISTAKES = """\
name: Broken Org
seats:
  boss:
    title: Boss
    kind: human
    capabilities: [deciding]
  clerk:
    titel: Clerk
    kind: human
  helper:
    title: Helper agent
    kind: agent
    reports_to: nobody
    capabilities: [deciding]
    inputs:
      ghost-output: skip_and_flag
  a:
    title: A
    kind: human
    reports_to: b
  b:
    title: B
    kind: human
    reports_to: a
  bot:
    title: Bot
    kind: robot
    owner: boss
outputs:
  report:
    producer: helper
    max_age: eighteen hours
    schedule: "every day"
processes:
  batch:
    seat: helper
    stages: [{name: one}]
    urgency: urgent
"""


def test_ten_mistakes_are_ten_errors_in_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path, TEN_MISTAKES)
    problems = problems_of(path)
    assert len(problems) == 10, "\n".join(problems)
    expected = [
        ("titel:", "unknown key 'titel'"),
        ("reports_to: nobody", "reports_to 'nobody' is not a seat"),
        ("capabilities: [deciding]", "capability 'deciding' is already held by active seat 'boss'"),
        ("  helper:", "agent seat 'helper' has no owner"),
        ("ghost-output:", "reads output 'ghost-output'"),
        ("reports_to: b", "reporting cycle a -> b -> a"),
        ("kind: robot", "'robot' is not allowed"),
        ("max_age:", "malformed duration 'eighteen hours'"),
        ("schedule:", "malformed cron expression 'every day'"),
        ("urgency: urgent", "urgency tier 'urgent' is not declared"),
    ]
    for needle, message in expected:
        occurrence = 2 if needle == "capabilities: [deciding]" else 1
        prefix = f"{path}:{line_of(path, needle, occurrence)}: "
        assert any(p.startswith(prefix) and message in p for p in problems), (needle, problems)


def test_a_key_that_looks_like_a_validator_name_is_still_named(tmp_path: Path) -> None:
    # Found by Hypothesis: pydantic's own loc entries look like "function-after[...]".
    path = write(tmp_path, BASE.replace("    title: Boss", "    title: Boss\n    s[ops]: [x]"))
    problems = problems_of(path)
    assert len(problems) == 1
    assert "unknown key 's[ops]'" in problems[0]
    assert problems[0].startswith(f"{path}:{line_of(path, 's[ops]')}: ")


def test_an_unchanged_file_is_not_parsed_again_and_a_changed_one_is(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    first = load_org(path)
    assert load_org(path) is first  # same bytes: the same immutable Org, no parse
    path.write_text(BASE.replace("name: Test Org", "name: Renamed Org"))
    assert load_org(path).name == "Renamed Org"
    path.write_text(BASE.replace("kind: human", "kind: robot"))
    with pytest.raises(OrgFileError):
        load_org(path)  # problems are never cached
    path.write_text(BASE)
    assert load_org(path) == first


def test_retention_is_a_top_level_setting_checked_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    base = "name: X\ntimezone: Mars/Base\nretention: {}\nseats:\n  a: {{title: A, kind: human}}\n"
    path.write_text(base.format("2d"))
    with pytest.raises(OrgFileError) as caught:
        load_org(path)
    lines = {p.line: p.message for p in caught.value.problems}
    assert "shorter than the 8d" in lines[3] and lines[3].startswith("retention 2d")
    assert "Mars/Base" in lines[2]  # the other settings are still checked in the same pass
    path.write_text(base.format("30d").replace("Mars/Base", "UTC"))
    assert load_org(path).retention.days == 30
